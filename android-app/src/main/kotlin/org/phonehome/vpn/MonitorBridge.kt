package org.phonehome.vpn

import org.phonehome.apps.UidNamer
import org.phonehome.core.AlertListener
import org.phonehome.core.Connection
import org.phonehome.core.OwnerLookup
import org.phonehome.core.PlatformException
import org.phonehome.core.Protector
import org.phonehome.model.AlertRecord

/** The monitor's view of the platform: protection, owners and names, alerts; each a plain function. */
class MonitorBridge(
    private val protectSocket: (Int) -> Boolean,
    private val ownerOf: (Connection) -> Int?,
    private val namer: UidNamer,
    private val onAlertRaised: (AlertRecord) -> Unit,
) : Protector, OwnerLookup, AlertListener {
    override fun protect(fd: Int) {
        if (!protectSocket(fd)) throw PlatformException.Failed("the platform refused to protect socket $fd")
    }

    override fun ownerUid(connection: Connection): UInt? = ownerOf(connection)?.takeIf { it >= 0 }?.toUInt()

    override fun appName(uid: UInt): String? = namer.identify(uid.toInt()).label

    override fun onAlert(alert: AlertRecord) = onAlertRaised(alert)
}
