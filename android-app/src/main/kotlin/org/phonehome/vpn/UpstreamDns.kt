package org.phonehome.vpn

import java.net.Inet6Address
import java.net.InetAddress

/** The resolvers of the network underneath, as the engine takes them. */
object UpstreamDns {
    /** Used only when the network reports no usable resolver. */
    const val FALLBACK = "9.9.9.9"

    /**
     * [servers] as numeric text, link-local ones left out (`fe80::1%wlan0` answers only on that interface, not
     * through the engine's protected sockets), in the network's order.
     */
    fun candidates(servers: List<InetAddress>): List<String> = servers
        .filter { !it.isLinkLocalAddress && !it.isAnyLocalAddress }
        .mapNotNull { address -> address.hostAddress?.let { if (address is Inet6Address) it.substringBefore('%') else it } }

    /** The resolver the engine starts with. */
    fun first(servers: List<InetAddress>): String = candidates(servers).firstOrNull() ?: FALLBACK
}
