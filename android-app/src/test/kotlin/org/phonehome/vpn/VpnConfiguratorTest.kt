package org.phonehome.vpn

import org.junit.Assert.assertEquals
import org.junit.Assert.assertNull
import org.junit.Assert.assertThrows
import org.junit.Test

/** Records every builder call, as `VpnService.Builder` would receive them. */
class RecordingBuilder(private val fd: Int?) : TunBuilder {
    val calls = mutableListOf<String>()
    override fun setSession(name: String) { calls += "session $name" }
    override fun setMtu(mtu: Int) { calls += "mtu $mtu" }
    override fun addAddress(address: String, prefixLength: Int) { calls += "address $address/$prefixLength" }
    override fun addRoute(address: String, prefixLength: Int) { calls += "route $address/$prefixLength" }
    override fun addDnsServer(address: String) { calls += "dns $address" }
    override fun addDisallowedApplication(packageName: String) { calls += "exclude $packageName" }
    override fun setMetered(metered: Boolean) { calls += "metered $metered" }
    override fun establish(): Int? = fd.also { calls += "establish" }
}

class VpnConfiguratorTest {
    @Test
    fun `configures both families, default routes, virtual DNS, a large MTU and excludes the app`() {
        val builder = RecordingBuilder(fd = 42)
        val fd = VpnConfigurator(VpnPlan(excludedPackages = listOf("com.example.bank", "org.phonehome")))
            .establish(builder, ownPackage = "org.phonehome", sdkInt = 36)
        assertEquals(42, fd)
        assertEquals(
            listOf(
                "session phonehome", "mtu 10000",
                "address 10.215.173.1/24", "route 0.0.0.0/0",
                "address fd66:f83a:c650::1/64", "route ::/0",
                "dns 10.215.173.2",
                "exclude org.phonehome", "exclude com.example.bank",
                "metered false", "establish",
            ),
            builder.calls,
        )
    }

    @Test
    fun `the virtual DNS address is inside the tun subnet and is not the tun's own address`() {
        val plan = VpnPlan()
        assertEquals(plan.address4.substringBeforeLast('.'), plan.virtualDns.substringBeforeLast('.'))
        assert(plan.address4 != plan.virtualDns)
    }

    @Test
    fun `before Android 10 setMetered is not called`() {
        val builder = RecordingBuilder(fd = 3)
        VpnConfigurator(VpnPlan()).establish(builder, "org.phonehome", sdkInt = 24)
        assert(builder.calls.none { it.startsWith("metered") }) { builder.calls.toString() }
    }

    @Test
    fun `revoked consent gives no fd`() {
        assertNull(VpnConfigurator(VpnPlan()).establish(RecordingBuilder(fd = null), "org.phonehome", 36))
    }

    @Test
    fun `an MTU that cannot carry IPv6 or exceeds a tun is refused before touching the builder`() {
        for (mtu in listOf(576, 70_000)) {
            val builder = RecordingBuilder(fd = 1)
            assertThrows(IllegalArgumentException::class.java) { VpnConfigurator(VpnPlan(mtu = mtu)).establish(builder, "p", 36) }
            assertEquals(emptyList<String>(), builder.calls)
        }
    }
}
