package org.phonehome.vpn

import android.content.BroadcastReceiver
import android.content.Context
import android.content.Intent
import android.net.VpnService
import org.phonehome.settings.Settings

/**
 * Starts the VPN after boot when the user asked for it, and after an update of the app when it was running
 * (the update killed it), as long as consent is still granted.
 */
class BootReceiver : BroadcastReceiver() {
    override fun onReceive(context: Context, intent: Intent) {
        val settings = Settings(context)
        val wanted = when (intent.action) {
            Intent.ACTION_BOOT_COMPLETED -> settings.startAtBoot()
            Intent.ACTION_MY_PACKAGE_REPLACED -> settings.wantRunning()
            else -> false
        }
        if (wanted && VpnService.prepare(context) == null) PhonehomeVpnService.start(context)
    }
}
