package org.phonehome.vpn

import org.phonehome.core.Monitor
import org.phonehome.core.MonitorConfig
import org.phonehome.settings.BlockList

/** The engine's counters as the screens and the status notification show them. */
data class Counters(val flowsFinished: Long, val alerts: Long, val openFlows: Long, val packetsIn: Long, val packetsOut: Long)

/**
 * What the service asks of a running engine. [CoreMonitor] is the Rust engine through the bindings; the
 * service tests run the service's own logic with another. Every call may block: the service makes them on
 * its lifecycle thread only, never on the main thread.
 */
interface RunningMonitor {
    fun counters(): Counters
    fun setBlockRules(rules: BlockList)
    /** Forwards the virtual DNS address to the first usable of [servers]; returns the one chosen. */
    fun setUpstreamDns(servers: List<String>): String
    /** Stops forwarding (the tun fd closes); the records stay readable until [close]. */
    fun stop()
    /** Frees the engine; it is not called again. */
    fun close()
}

/** Starts an engine on a tun fd (whose ownership passes to it). */
fun interface MonitorLauncher {
    fun start(config: MonitorConfig, tunFd: Int, bridge: MonitorBridge): RunningMonitor
}

/** The Rust engine. */
class CoreMonitor private constructor(private val engine: Monitor) : RunningMonitor {
    override fun counters(): Counters = engine.stats().let {
        Counters(it.flowsFinished.toLong(), it.alerts.toLong(), it.tcpFlowsOpen.toLong() + it.datagramFlowsOpen.toLong(),
            it.packetsIn.toLong(), it.packetsOut.toLong())
    }

    override fun setBlockRules(rules: BlockList) = engine.setBlockRules(rules.apps, rules.domains, rules.countries, rules.networks)

    override fun setUpstreamDns(servers: List<String>): String = engine.setUpstreamDns(servers)

    override fun stop() {
        if (engine.isRunning()) engine.stop()
    }

    override fun close() = engine.destroy()

    companion object : MonitorLauncher {
        override fun start(config: MonitorConfig, tunFd: Int, bridge: MonitorBridge): RunningMonitor =
            CoreMonitor(Monitor.start(config, tunFd, bridge, bridge, bridge))
    }
}
