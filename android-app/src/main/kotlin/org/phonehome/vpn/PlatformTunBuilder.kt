package org.phonehome.vpn

import android.net.VpnService
import android.os.Build

/** [TunBuilder] over the real `VpnService.Builder`. */
class PlatformTunBuilder(private val builder: VpnService.Builder) : TunBuilder {
    override fun setSession(name: String) { builder.setSession(name) }
    override fun setMtu(mtu: Int) { builder.setMtu(mtu) }
    override fun addAddress(address: String, prefixLength: Int) { builder.addAddress(address, prefixLength) }
    override fun addRoute(address: String, prefixLength: Int) { builder.addRoute(address, prefixLength) }
    override fun addDnsServer(address: String) { builder.addDnsServer(address) }
    override fun addDisallowedApplication(packageName: String) { builder.addDisallowedApplication(packageName) }
    override fun setMetered(metered: Boolean) {
        if (Build.VERSION.SDK_INT >= Build.VERSION_CODES.Q) builder.setMetered(metered)
    }
    override fun establish(): Int? = builder.establish()?.detachFd()
}
