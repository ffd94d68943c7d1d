package org.phonehome.vpn

import android.content.BroadcastReceiver
import android.content.Context
import android.content.Intent
import android.net.VpnService
import org.phonehome.settings.Settings

/** Starts the VPN after boot when the user asked for it and consent is still granted. */
class BootReceiver : BroadcastReceiver() {
    override fun onReceive(context: Context, intent: Intent) {
        if (intent.action != Intent.ACTION_BOOT_COMPLETED) return
        if (Settings(context).startAtBoot() && VpnService.prepare(context) == null) PhonehomeVpnService.start(context)
    }
}
