package org.phonehome.vpn

import android.os.Handler
import android.os.Looper
import java.util.concurrent.CopyOnWriteArrayList

/**
 * The VPN as the screens see it: a snapshot the service publishes from its lifecycle thread. Screens read it
 * and never call the engine, so a slow engine call (a stop that drains connections) never blocks the UI.
 */
object VpnStatus {
    enum class Phase { STOPPED, STARTING, RUNNING }

    data class State(
        val phase: Phase = Phase.STOPPED,
        val counters: Counters? = null,
        /** Why the last start or run failed, for the user; null when nothing went wrong. */
        val problem: String? = null,
        /** The resolver the engine forwards DNS to. */
        val upstreamDns: String? = null,
        /** Strict Private DNS (Android 9+) is on with this host: apps' own DNS then bypasses the VPN's resolver. */
        val strictPrivateDns: String? = null,
    ) {
        val running: Boolean get() = phase != Phase.STOPPED
    }

    @Volatile
    var current = State()
        private set

    private val listeners = CopyOnWriteArrayList<(State) -> Unit>()
    private val main by lazy { Handler(Looper.getMainLooper()) }

    /** Changes the state and tells the listeners, on the main thread. */
    fun update(change: (State) -> State) {
        val state = synchronized(this) { change(current).also { current = it } }
        main.post { listeners.forEach { it(state) } }
    }

    /** [listener] hears every later change on the main thread, until [unlisten]. */
    fun listen(listener: (State) -> Unit) {
        listeners += listener
    }

    fun unlisten(listener: (State) -> Unit) {
        listeners -= listener
    }
}
