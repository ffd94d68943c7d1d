package org.phonehome.apps

import android.net.ConnectivityManager
import android.system.OsConstants
import org.phonehome.compat.Platform
import org.phonehome.core.Connection
import org.phonehome.model.Proto
import java.net.InetAddress
import java.net.InetSocketAddress

/** Android 10+: the owner of a connection from `ConnectivityManager.getConnectionOwnerUid`. */
class ConnectionOwners(private val connectivity: ConnectivityManager) {
    /** The owning uid, or null; unconnected UDP sockets are found by retrying with wildcard remotes. */
    fun ownerOf(connection: Connection): Int? {
        val protocol = when (connection.proto) {
            Proto.TCP -> OsConstants.IPPROTO_TCP
            Proto.UDP -> OsConstants.IPPROTO_UDP
            Proto.ICMP -> return null // the platform resolves TCP and UDP only
        }
        // Numeric literals from the monitor: InetAddress.getByName parses them without a DNS query.
        val local = InetSocketAddress(InetAddress.getByName(connection.localIp), connection.localPort.toInt())
        val remoteIp = InetAddress.getByName(connection.remoteIp)
        val remotes = buildList {
            add(InetSocketAddress(remoteIp, connection.remotePort.toInt()))
            if (protocol == OsConstants.IPPROTO_UDP) {
                add(InetSocketAddress(remoteIp, 0))
                add(InetSocketAddress(if (remoteIp.address.size == 4) "0.0.0.0" else "::", 0))
            }
        }
        return remotes.firstNotNullOfOrNull { remote -> Platform.connectionOwnerUid(connectivity, protocol, local, remote) }
    }
}
