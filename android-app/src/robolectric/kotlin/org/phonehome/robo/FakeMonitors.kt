package org.phonehome.robo

import android.os.Looper
import org.phonehome.core.MonitorConfig
import org.phonehome.settings.BlockList
import org.phonehome.vpn.Counters
import org.phonehome.vpn.MonitorBridge
import org.phonehome.vpn.MonitorLauncher
import org.phonehome.vpn.RunningMonitor
import org.phonehome.vpn.TunOpener
import java.util.concurrent.CopyOnWriteArrayList
import java.util.concurrent.CountDownLatch
import java.util.concurrent.TimeUnit

/**
 * Stands in for the tun and the Rust engine in the service tests (the live engine is tested on a real TUN by
 * the host tests): records what the service asks, in order, and every call made on the main thread or to an
 * engine already closed, which the app must never do.
 */
class FakeMonitors : MonitorLauncher {
    val events = CopyOnWriteArrayList<String>()
    val violations = CopyOnWriteArrayList<String>()
    val configs = CopyOnWriteArrayList<MonitorConfig>()
    val engines = CopyOnWriteArrayList<Engine>()
    /** The next start fails with this. */
    @Volatile var refuseStart: Exception? = null
    /** Held closed, a stop blocks until it opens (a shutdown that drains connections). */
    @Volatile var stopGate: CountDownLatch? = null
    private var tunsOpened = 0

    val tuns = TunOpener { _ ->
        offMain("open tun")
        events += "tun ${++tunsOpened}"
        100 + tunsOpened
    }

    val current: Engine? get() = engines.lastOrNull()?.takeIf { !it.closed }

    override fun start(config: MonitorConfig, tunFd: Int, bridge: MonitorBridge): RunningMonitor {
        offMain("start")
        refuseStart?.let { refuseStart = null; throw it }
        configs += config
        val engine = Engine(engines.size + 1)
        engines += engine
        events += "start ${engine.number} on $tunFd"
        return engine
    }

    private fun offMain(call: String) {
        if (Looper.myLooper() == Looper.getMainLooper()) violations += "$call on the main thread"
    }

    inner class Engine(val number: Int) : RunningMonitor {
        @Volatile var closed = false
        val upstreams = CopyOnWriteArrayList<List<String>>()
        val rules = CopyOnWriteArrayList<BlockList>()

        private fun call(name: String) {
            offMain("$name of engine $number")
            if (closed) violations += "$name of engine $number after close"
        }

        override fun counters(): Counters {
            call("counters")
            return Counters(flowsFinished = 42, alerts = 7, openFlows = 3, packetsIn = 900, packetsOut = 800)
        }

        override fun setBlockRules(rules: BlockList) {
            call("setBlockRules")
            this.rules += rules
        }

        override fun setUpstreamDns(servers: List<String>): String {
            call("setUpstreamDns")
            upstreams += servers
            events += "dns ${servers.joinToString(",")} for $number"
            return servers.first()
        }

        override fun stop() {
            call("stop")
            stopGate?.await(10, TimeUnit.SECONDS)
            events += "stop $number"
        }

        override fun close() {
            call("close")
            closed = true
            events += "close $number"
        }
    }
}
