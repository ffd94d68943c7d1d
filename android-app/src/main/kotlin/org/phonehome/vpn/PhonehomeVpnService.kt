package org.phonehome.vpn

import android.app.PendingIntent
import android.content.Context
import android.content.Intent
import android.net.ConnectivityManager
import android.net.LinkProperties
import android.net.Network
import android.net.VpnService
import android.util.Log
import org.phonehome.R
import org.phonehome.alerts.AlertNotifier
import org.phonehome.apps.AndroidPackageLookup
import org.phonehome.apps.ConnectionOwners
import org.phonehome.apps.UidNamer
import org.phonehome.compat.Platform
import org.phonehome.core.MonitorConfig
import org.phonehome.core.OwnerSource
import org.phonehome.core.initLogging
import org.phonehome.history.HistoryQueries
import org.phonehome.lists.ListUpdateJob
import org.phonehome.settings.BlockList
import org.phonehome.settings.Settings
import org.phonehome.ui.MainActivity
import java.util.concurrent.Executors
import java.util.concurrent.Future
import java.util.concurrent.ScheduledFuture
import java.util.concurrent.TimeUnit

/**
 * The VPN: establishes the tun, runs the engine on it, keeps a foreground notification with live counters
 * and a Stop action, follows the default network (its resolvers become the engine's upstream DNS), and stops
 * cleanly, also when the system revokes the VPN. Every engine call runs on one lifecycle thread, never on the
 * main thread; the screens read [VpnStatus].
 */
class PhonehomeVpnService : VpnService() {
    private lateinit var connectivity: ConnectivityManager
    private lateinit var notifier: AlertNotifier
    private lateinit var settings: Settings

    // Touched on the lifecycle thread only.
    private var engine: RunningMonitor? = null
    private var networkCallback: ConnectivityManager.NetworkCallback? = null
    private var refresh: ScheduledFuture<*>? = null

    override fun onCreate() {
        super.onCreate()
        connectivity = getSystemService(ConnectivityManager::class.java)
        settings = Settings(this)
        notifier = AlertNotifier(this, settings)
        notifier.createChannels()
    }

    override fun onStartCommand(intent: Intent?, flags: Int, startId: Int): Int {
        when (intent?.action) {
            ACTION_STOP -> {
                settings.setWantRunning(false)
                work(::shutDown)
                return START_NOT_STICKY
            }
            ACTION_RESTART -> work { if (engine != null) restart() } // stopped in between: nothing to restart
            ACTION_APPLY_RULES -> work { engine?.setBlockRules(BlockList.parse(settings.blocked())) }
            else -> {
                // Started by the app, or by the system: always-on VPN (SERVICE_INTERFACE) or a sticky restart (null).
                if (!Platform.startForeground(this, AlertNotifier.STATUS_ID, notifier.statusNotification(null))) {
                    // Android 12+ refuses a foreground start from the background (a sticky restart): give up cleanly.
                    VpnStatus.update { it.copy(phase = VpnStatus.Phase.STOPPED, problem = getString(R.string.problem_background_start)) }
                    stopSelf()
                    return START_NOT_STICKY
                }
                VpnStatus.update { if (it.running) it else it.copy(phase = VpnStatus.Phase.STARTING, problem = null) }
                work { if (engine == null) establish()?.let(::launch) ?: shutDown(getString(R.string.problem_no_tunnel)) }
            }
        }
        return START_STICKY
    }

    /** The new tunnel takes over the routes before the old engine stops, so no app's traffic slips past. */
    private fun restart() {
        val fd = establish() ?: return shutDown(getString(R.string.problem_no_tunnel))
        stopEngine()
        launch(fd)
    }

    /** A new tun (replacing the current one, if any) as the settings ask; null when the system refuses it. */
    private fun establish(): Int? {
        val plan = VpnPlan(excludedPackages = settings.excludedPackages())
        return try {
            val builder = PlatformTunBuilder(Builder().setConfigureIntent(openApp()), tuns)
            VpnConfigurator(plan).establish(builder, packageName, Platform.sdk)
        } catch (e: Exception) { // IllegalStateException without consent, IllegalArgumentException for a bad address
            Log.e(TAG, "cannot establish the VPN", e)
            null
        }
    }

    /** Starts the engine on [fd] with the current settings and lists; publishes the outcome. */
    private fun launch(fd: Int) {
        initLogging("info")
        val owners = if (Platform.hasConnectionOwners) ConnectionOwners(connectivity) else null
        val bridge = MonitorBridge(
            protectSocket = ::protect,
            ownerOf = { connection -> owners?.ownerOf(connection) },
            namer = UidNamer(AndroidPackageLookup(packageManager)),
            onAlertRaised = notifier::onAlert,
        )
        val started = try {
            engines.start(engineConfig(owners != null), fd, bridge)
        } catch (e: Exception) { // MonitorException: a setting or list the engine refuses
            Log.e(TAG, "the engine did not start", e)
            return shutDown(getString(R.string.problem_engine, e.message ?: e.javaClass.simpleName))
        }
        engine = started
        settings.setWantRunning(true)
        VpnStatus.update { it.copy(phase = VpnStatus.Phase.RUNNING, problem = null, counters = null) }
        followNetworks()
        refresh = lifecycle.scheduleWithFixedDelay({ publishCounters() }, 0, REFRESH_MILLIS, TimeUnit.MILLISECONDS)
    }

    private fun engineConfig(platformOwners: Boolean): MonitorConfig {
        val plan = VpnPlan()
        val blocks = BlockList.parse(settings.blocked())
        val upstream = UpstreamDns.first(connectivity.activeNetwork?.let { connectivity.getLinkProperties(it)?.dnsServers }.orEmpty())
        VpnStatus.update { it.copy(upstreamDns = upstream) }
        return MonitorConfig(
            mtu = plan.mtu.toUInt(),
            virtualDns = plan.virtualDns,
            upstreamDns = upstream,
            ownerSource = if (platformOwners) OwnerSource.PLATFORM else OwnerSource.PROC_NET,
            identifiersToml = settings.identifiersToml(),
            watchedCountries = settings.watchedCountries(),
            alertNewDestinations = settings.firstContactAlerts(),
            flowIdleSeconds = null,
            // App-private storage: flows and alerts survive restarts, first contacts too.
            historyPath = HistoryQueries.file(this).path,
            keepPackets = false,
            blockApps = blocks.apps,
            blockDomains = blocks.domains,
            blockCountries = blocks.countries,
            blockNetworks = blocks.networks,
            alertLists = ListUpdateJob.catalog(this).engineLists(),
        )
    }

    private fun publishCounters() {
        val counters = engine?.counters() ?: return
        VpnStatus.update { it.copy(counters = counters) }
        notifier.updateStatus(notifier.statusNotification(counters))
    }

    /**
     * Follows the default network (registerDefaultNetworkCallback needs no permission beyond
     * ACCESS_NETWORK_STATE; requestNetwork would need CHANGE_NETWORK_STATE): the tunnel's underlying network for
     * metering and the status bar, its resolvers for the engine, and whether strict Private DNS is on.
     */
    private fun followNetworks() {
        val callback = object : ConnectivityManager.NetworkCallback() {
            override fun onAvailable(network: Network) {
                setUnderlyingNetworks(arrayOf(network))
            }

            override fun onLinkPropertiesChanged(network: Network, properties: LinkProperties) {
                setUnderlyingNetworks(arrayOf(network))
                val servers = UpstreamDns.candidates(properties.dnsServers)
                val privateDns = Platform.privateDns(properties)
                work {
                    val chosen = if (servers.isEmpty()) null else engine?.setUpstreamDns(servers)
                    VpnStatus.update { state ->
                        state.copy(upstreamDns = chosen ?: state.upstreamDns, strictPrivateDns = privateDns.strictServer)
                    }
                }
            }

            override fun onLost(network: Network) {
                setUnderlyingNetworks(null)
            }
        }
        connectivity.registerDefaultNetworkCallback(callback)
        networkCallback = callback
    }

    private fun shutDown(problem: String? = null) {
        stopEngine()
        VpnStatus.update { it.copy(phase = VpnStatus.Phase.STOPPED, problem = problem) }
        stopForeground(STOP_FOREGROUND_REMOVE)
        stopSelf()
    }

    /** Stops the engine (its tun fd closes with it) and what follows it; the service itself stays. */
    private fun stopEngine() {
        refresh?.cancel(false)
        refresh = null
        networkCallback?.let { runCatching { connectivity.unregisterNetworkCallback(it) } }
        networkCallback = null
        val stopping = engine ?: return
        engine = null
        try {
            stopping.stop()
        } finally {
            stopping.close()
        }
    }

    override fun onRevoke() {
        // Another VPN took over, or the user revoked consent: stop and stay stopped.
        settings.setWantRunning(false)
        work { shutDown(getString(R.string.problem_revoked)) }
        super.onRevoke()
    }

    override fun onDestroy() {
        work {
            stopEngine()
            VpnStatus.update { it.copy(phase = VpnStatus.Phase.STOPPED) }
        }
        super.onDestroy()
    }

    private fun openApp(): PendingIntent = PendingIntent.getActivity(
        this, 0, Intent(this, MainActivity::class.java), PendingIntent.FLAG_IMMUTABLE,
    )

    /**
     * Runs [task] on the lifecycle thread; a failure is logged and shown, never thrown at the system (the
     * scheduled executor would swallow it silently, errors included).
     */
    private fun work(task: () -> Unit) {
        lifecycle.execute {
            try {
                task()
            } catch (e: Throwable) {
                Log.e(TAG, "VPN lifecycle", e)
                VpnStatus.update { it.copy(problem = getString(R.string.problem_engine, e.message ?: e.javaClass.simpleName)) }
            }
        }
    }

    companion object {
        private const val TAG = "phonehome"
        const val ACTION_STOP = "org.phonehome.STOP"
        private const val ACTION_RESTART = "org.phonehome.RESTART"
        private const val ACTION_APPLY_RULES = "org.phonehome.APPLY_RULES"
        private const val REFRESH_MILLIS = 2_000L

        /** Starts, restarts and stops the engine and makes every other engine call, in order, off the main thread. */
        private val lifecycle = Executors.newSingleThreadScheduledExecutor { task -> Thread(task, "ph-engine").apply { isDaemon = true } }

        /** How the tun is opened and the engine started: the platform's and the Rust engine (tests put their own). */
        @Volatile
        var tuns = TunOpener { builder -> builder.establish()?.detachFd() }

        @Volatile
        var engines: MonitorLauncher = CoreMonitor

        /** Completes once every lifecycle task submitted before it has run. */
        fun settled(): Future<*> = lifecycle.submit { }

        /** Starts the VPN; the caller has the user's consent (`VpnService.prepare` returned null). */
        fun start(context: Context) = Platform.startForegroundService(context, Intent(context, PhonehomeVpnService::class.java))

        /** Restarts a running VPN so that the engine loads changed settings or lists; does nothing when stopped. */
        fun restart(context: Context) = tell(context, ACTION_RESTART)

        /** Hands the saved block rules to the running engine: new connections follow them at once, open ones go on. */
        fun applyBlockRules(context: Context) = tell(context, ACTION_APPLY_RULES)

        fun stop(context: Context) = tell(context, ACTION_STOP)

        private fun tell(context: Context, action: String) {
            if (VpnStatus.current.running) context.startService(Intent(context, PhonehomeVpnService::class.java).setAction(action))
        }
    }
}
