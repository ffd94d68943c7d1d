package org.phonehome.vpn

import android.content.Intent
import android.net.VpnService
import android.service.quicksettings.Tile
import android.service.quicksettings.TileService
import org.phonehome.compat.Platform
import org.phonehome.ui.MainActivity

/** Quick Settings tile: shows whether monitoring runs and starts or stops it with one tap. */
class MonitorTile : TileService() {
    private val onStatus: (VpnStatus.State) -> Unit = { show(it) }

    override fun onStartListening() {
        VpnStatus.listen(onStatus)
        show(VpnStatus.current)
    }

    override fun onStopListening() {
        VpnStatus.unlisten(onStatus)
    }

    override fun onClick() {
        when {
            VpnStatus.current.running -> PhonehomeVpnService.stop(this)
            // Consent (or the first-run screen) needs the app: open it.
            VpnService.prepare(this) != null || !org.phonehome.settings.Settings(this).onboarded() ->
                Platform.startFromTile(this, Intent(this, MainActivity::class.java))
            else -> PhonehomeVpnService.start(this)
        }
    }

    private fun show(state: VpnStatus.State) {
        val tile = qsTile ?: return
        tile.state = if (state.running) Tile.STATE_ACTIVE else Tile.STATE_INACTIVE
        tile.updateTile()
    }
}
