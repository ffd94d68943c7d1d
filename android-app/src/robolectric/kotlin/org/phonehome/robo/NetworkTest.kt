package org.phonehome.robo

import android.content.Intent
import android.net.ConnectivityManager
import android.net.LinkProperties
import android.net.Network
import android.os.Build
import android.provider.Settings.ACTION_WIRELESS_SETTINGS
import org.junit.Assert.assertEquals
import org.junit.Assert.assertNull
import org.junit.Before
import org.junit.Test
import org.junit.runner.RunWith
import org.phonehome.settings.Settings
import org.phonehome.ui.MainActivity
import org.phonehome.vpn.PhonehomeVpnService
import org.phonehome.vpn.VpnStatus
import org.robolectric.Robolectric
import org.robolectric.Shadows.shadowOf
import org.robolectric.annotation.Config
import org.robolectric.shadows.ShadowNetwork
import java.net.InetAddress

/** Network switches: the engine's upstream DNS follows the default network; strict Private DNS is told to the user. */
@RunWith(PhonehomeRunner::class)
@Config(sdk = [24, 29, 33, 36], shadows = [RecordingVpnBuilder::class])
class NetworkTest {
    private lateinit var engines: FakeMonitors
    private val app get() = Fixtures.app
    private val connectivity get() = app.getSystemService(ConnectivityManager::class.java)

    @Before
    fun running() {
        engines = Fixtures.phone()
        Fixtures.realHistory()
        Settings(app).setOnboarded()
        val intent = Intent(app, PhonehomeVpnService::class.java)
        Robolectric.buildService(PhonehomeVpnService::class.java, intent).create().withIntent(intent).startCommand(0, 1)
        settle()
    }

    /** Link properties as the system reports them (their setters are the platform's own, hidden from apps). */
    private fun link(vararg dns: String, privateDnsHost: String? = null) = LinkProperties().apply {
        setDnsServers(dns.map { InetAddress.getByName(it) })
        if (Build.VERSION.SDK_INT >= 28 && privateDnsHost != null) {
            setUsePrivateDns(true)
            setPrivateDnsServerName(privateDnsHost)
        }
    }

    private fun switchTo(netId: Int, properties: LinkProperties) {
        val network: Network = ShadowNetwork.newInstance(netId)
        shadowOf(connectivity).networkCallbacks.forEach {
            it.onAvailable(network)
            it.onLinkPropertiesChanged(network, properties)
        }
        settle()
    }

    @Test
    fun `Wi-Fi to mobile and back moves the engine to each network's resolvers, link-local ones skipped`() {
        switchTo(100, link("fe80::1", "192.168.1.1", "fd00::53"))
        switchTo(101, link("10.0.0.53", "2001:db8::53"))
        switchTo(100, link("fe80::1", "192.168.1.1"))
        val engine = engines.current ?: failure("no engine")
        val asked = engine.upstreams.map { servers -> servers.map(InetAddress::getByName) }
        assertEquals(listOf(listOf("192.168.1.1", "fd00::53"), listOf("10.0.0.53", "2001:db8::53"), listOf("192.168.1.1"))
            .map { servers -> servers.map(InetAddress::getByName) }, asked)
        assertEquals("192.168.1.1", VpnStatus.current.upstreamDns)
    }

    @Test
    fun `a network with only link-local resolvers keeps the engine's current one`() {
        switchTo(100, link("192.168.1.1"))
        switchTo(102, link("fe80::1"))
        assertEquals(1, engines.current!!.upstreams.size)
        assertEquals("192.168.1.1", VpnStatus.current.upstreamDns)
    }

    @Test
    fun `strict Private DNS is shown on the dashboard with a way to the setting (Android 9+)`() {
        switchTo(100, link("192.168.1.1", privateDnsHost = "dns.example.net"))
        if (Build.VERSION.SDK_INT < 28) {
            assertNull(VpnStatus.current.strictPrivateDns)
            return
        }
        assertEquals("dns.example.net", VpnStatus.current.strictPrivateDns)
        val main = Robolectric.buildActivity(MainActivity::class.java).setup().get()
        awaitText(main, "dns.example.net")
        click(main, "Open network settings")
        assertEquals(ACTION_WIRELESS_SETTINGS, shadowOf(main).nextStartedActivity.action)
        switchTo(100, link("192.168.1.1"))
        assertNull("automatic or off again", VpnStatus.current.strictPrivateDns)
    }
}
