package org.phonehome.vpn

import org.phonehome.apps.UidNamer
import org.phonehome.core.Alert
import org.phonehome.core.Connection
import org.phonehome.core.EngineListener
import org.phonehome.core.Flow
import org.phonehome.core.OwnerLookup
import org.phonehome.core.PlatformException
import org.phonehome.core.Protector

/** The engine's view of the platform: protection, owners and names, events; each a plain function. */
class EngineBridge(
    private val protectSocket: (Int) -> Boolean,
    private val ownerOf: (Connection) -> Int?,
    private val namer: UidNamer,
    private val onFlowEnded: (Flow) -> Unit,
    private val onAlertRaised: (Alert) -> Unit,
) : Protector, OwnerLookup, EngineListener {
    override fun protect(fd: Int) {
        if (!protectSocket(fd)) throw PlatformException.Failed("the platform refused to protect socket $fd")
    }

    override fun ownerUid(connection: Connection): UInt? = ownerOf(connection)?.takeIf { it >= 0 }?.toUInt()

    override fun appName(uid: UInt): String? = namer.identify(uid.toInt()).label

    override fun onFlow(flow: Flow) = onFlowEnded(flow)

    override fun onAlert(alert: Alert) = onAlertRaised(alert)
}
