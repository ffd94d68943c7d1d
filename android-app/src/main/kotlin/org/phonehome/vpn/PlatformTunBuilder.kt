package org.phonehome.vpn

import android.content.pm.PackageManager
import android.net.VpnService
import android.util.Log
import org.phonehome.compat.Platform

/** Opens the tun a configured `VpnService.Builder` describes: its detached fd, or null without consent. */
fun interface TunOpener {
    fun open(builder: VpnService.Builder): Int?
}

/** [TunBuilder] over the real `VpnService.Builder`. */
class PlatformTunBuilder(private val builder: VpnService.Builder, private val opener: TunOpener) : TunBuilder {
    override fun setSession(name: String) { builder.setSession(name) }
    override fun setMtu(mtu: Int) { builder.setMtu(mtu) }
    override fun addAddress(address: String, prefixLength: Int) { builder.addAddress(address, prefixLength) }
    override fun addRoute(address: String, prefixLength: Int) { builder.addRoute(address, prefixLength) }
    override fun addDnsServer(address: String) { builder.addDnsServer(address) }

    /** A package uninstalled since the user excluded it sends nothing: it is skipped, not a reason to fail. */
    override fun addDisallowedApplication(packageName: String) {
        try {
            builder.addDisallowedApplication(packageName)
        } catch (_: PackageManager.NameNotFoundException) {
            Log.i("phonehome", "excluded package $packageName is not installed")
        }
    }

    override fun setMetered(metered: Boolean) {
        if (!metered) Platform.setUnmetered(builder)
    }

    override fun establish(): Int? = opener.open(builder)
}
