package org.phonehome.vpn

import org.junit.Assert.assertEquals
import org.junit.Test
import java.net.InetAddress

class UpstreamDnsTest {
    private fun addresses(vararg text: String) = text.map(InetAddress::getByName)

    @Test
    fun `link-local and unspecified resolvers are left out, the network's order kept`() {
        assertEquals(listOf("192.168.1.1", InetAddress.getByName("fd00::53").hostAddress),
            UpstreamDns.candidates(addresses("fe80::1", "169.254.1.1", "192.168.1.1", "0.0.0.0", "fd00::53")))
    }

    @Test
    fun `the engine starts with the first usable resolver, or the fallback`() {
        assertEquals("10.0.0.53", UpstreamDns.first(addresses("fe80::1", "10.0.0.53")))
        assertEquals(UpstreamDns.FALLBACK, UpstreamDns.first(addresses("fe80::1")))
        assertEquals(UpstreamDns.FALLBACK, UpstreamDns.first(emptyList()))
    }
}
