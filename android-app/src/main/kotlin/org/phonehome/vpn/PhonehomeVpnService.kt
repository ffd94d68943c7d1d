package org.phonehome.vpn

import android.app.Notification
import android.app.PendingIntent
import android.content.Context
import android.content.Intent
import android.content.pm.ServiceInfo
import android.net.ConnectivityManager
import android.net.LinkProperties
import android.net.Network
import android.net.NetworkCapabilities
import android.net.NetworkRequest
import android.net.VpnService
import android.os.Build
import android.os.Handler
import android.os.Looper
import android.util.Log
import org.phonehome.R
import org.phonehome.alerts.AlertNotifier
import org.phonehome.apps.AndroidPackageLookup
import org.phonehome.apps.ConnectionOwners
import org.phonehome.apps.UidNamer
import org.phonehome.core.Monitor
import org.phonehome.core.MonitorConfig
import org.phonehome.core.MonitorException
import org.phonehome.core.OwnerSource
import org.phonehome.core.initLogging
import org.phonehome.history.HistoryQueries
import org.phonehome.lists.ListUpdateJob
import org.phonehome.settings.BlockList
import org.phonehome.settings.Settings
import org.phonehome.ui.MainActivity
import java.util.concurrent.Executors

/**
 * The VPN: establishes the tun, runs the engine on it, keeps a foreground notification with live
 * counters, follows the default network, and stops cleanly (also when the system revokes the VPN).
 */
class PhonehomeVpnService : VpnService() {
    private val main = Handler(Looper.getMainLooper())
    private lateinit var connectivity: ConnectivityManager
    private lateinit var notifier: AlertNotifier
    private var networkCallback: ConnectivityManager.NetworkCallback? = null

    override fun onCreate() {
        super.onCreate()
        connectivity = getSystemService(ConnectivityManager::class.java)
        notifier = AlertNotifier(this, Settings(this))
        notifier.createChannels()
    }

    override fun onStartCommand(intent: Intent?, flags: Int, startId: Int): Int {
        // Starting and stopping the engine reads lists and opens the history: never on the main thread. One
        // thread runs them in order.
        when (intent?.action) {
            ACTION_STOP -> {
                lifecycle.execute(::shutDown)
                return START_NOT_STICKY
            }
            ACTION_RESTART -> lifecycle.execute {
                if (running?.isRunning() == true) restart() else stopSelf() // stopped in between: nothing to restart
            }
            else -> {
                // A null intent or SERVICE_INTERFACE: started by the system for always-on VPN.
                startForegroundCompat(notifier.statusNotification(null))
                lifecycle.execute { if (running?.isRunning() != true) establish()?.let(::launch) ?: shutDown() }
            }
        }
        return START_STICKY
    }

    /** The new tunnel takes over the routes before the old engine stops, so no app's traffic slips past. */
    private fun restart() {
        val fd = establish() ?: return shutDown()
        stopEngine()
        launch(fd)
    }

    /** A new tun (replacing the current one, if any) as the settings ask; null when the system refuses it. */
    private fun establish(): Int? {
        val plan = VpnPlan(excludedPackages = Settings(this).excludedPackages())
        return try {
            VpnConfigurator(plan).establish(PlatformTunBuilder(Builder().setConfigureIntent(openApp())), packageName, Build.VERSION.SDK_INT)
        } catch (e: Exception) {
            Log.e(TAG, "cannot establish the VPN", e)
            null
        }
    }

    /** Starts the engine on [fd] with the current settings and lists. */
    private fun launch(fd: Int) {
        val settings = Settings(this)
        initLogging("info")
        val plan = VpnPlan(excludedPackages = settings.excludedPackages())
        val namer = UidNamer(AndroidPackageLookup(packageManager))
        val owners = if (Build.VERSION.SDK_INT >= Build.VERSION_CODES.Q) ConnectionOwners(connectivity) else null
        val bridge = EngineBridge(
            protectSocket = ::protect,
            ownerOf = { connection -> owners?.ownerOf(connection) },
            namer = namer,
            onAlertRaised = notifier::onAlert,
        )
        val blocks = BlockList.parse(settings.blocked())
        val config = MonitorConfig(
            mtu = plan.mtu.toUInt(),
            virtualDns = plan.virtualDns,
            upstreamDns = upstreamDns(),
            ownerSource = if (owners != null) OwnerSource.PLATFORM else OwnerSource.PROC_NET,
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
        running?.destroy() // the previous run's records are replaced by this run's
        running = try {
            Monitor.start(config, fd, bridge, bridge, bridge)
        } catch (e: MonitorException) {
            Log.e(TAG, "the engine did not start", e)
            null
        }
        if (running?.isRunning() != true) shutDown() else {
            followNetworks()
            main.post(refresher)
        }
    }

    /** The resolver of the network underneath: the engine forwards the virtual DNS address to it. */
    private fun upstreamDns(): String {
        val network = connectivity.activeNetwork
        val servers = network?.let { connectivity.getLinkProperties(it)?.dnsServers }.orEmpty()
        return servers.firstOrNull()?.hostAddress ?: FALLBACK_DNS
    }

    /** Tells the system which network carries the tunnel, so metering and the status bar stay right. */
    private fun followNetworks() {
        val callback = object : ConnectivityManager.NetworkCallback() {
            override fun onAvailable(network: Network) { setUnderlyingNetworks(arrayOf(network)) }
            override fun onLinkPropertiesChanged(network: Network, properties: LinkProperties) {
                setUnderlyingNetworks(arrayOf(network))
            }
            override fun onLost(network: Network) { setUnderlyingNetworks(null) }
        }
        val request = NetworkRequest.Builder()
            .addCapability(NetworkCapabilities.NET_CAPABILITY_INTERNET)
            .addCapability(NetworkCapabilities.NET_CAPABILITY_NOT_VPN)
            .build()
        connectivity.requestNetwork(request, callback)
        networkCallback = callback
    }

    private val refresher = object : Runnable {
        override fun run() {
            val engine = running?.takeIf { it.isRunning() } ?: return
            notifier.updateStatus(notifier.statusNotification(engine.stats()))
            main.postDelayed(this, REFRESH_MILLIS)
        }
    }

    private fun shutDown() {
        stopEngine()
        stopForeground(STOP_FOREGROUND_REMOVE)
        stopSelf()
    }

    /** Stops the engine (its tun fd closes with it) and what follows it; the service itself stays. */
    private fun stopEngine() {
        main.removeCallbacks(refresher)
        networkCallback?.let { runCatching { connectivity.unregisterNetworkCallback(it) } }
        networkCallback = null
        running?.takeIf { it.isRunning() }?.let { engine ->
            try {
                engine.stop()
            } catch (e: MonitorException) {
                Log.w(TAG, "stop", e)
            }
        }
    }

    override fun onRevoke() {
        lifecycle.execute(::shutDown)
        super.onRevoke()
    }

    override fun onDestroy() {
        lifecycle.execute(::stopEngine)
        super.onDestroy()
    }

    private fun startForegroundCompat(notification: Notification) {
        if (Build.VERSION.SDK_INT >= Build.VERSION_CODES.UPSIDE_DOWN_CAKE) {
            startForeground(AlertNotifier.STATUS_ID, notification, ServiceInfo.FOREGROUND_SERVICE_TYPE_SPECIAL_USE)
        } else {
            startForeground(AlertNotifier.STATUS_ID, notification)
        }
    }

    private fun openApp(): PendingIntent = PendingIntent.getActivity(
        this, 0, Intent(this, MainActivity::class.java), PendingIntent.FLAG_IMMUTABLE,
    )

    companion object {
        private const val TAG = "phonehome"
        const val ACTION_STOP = "org.phonehome.STOP"
        private const val ACTION_RESTART = "org.phonehome.RESTART"
        private const val REFRESH_MILLIS = 2_000L
        /** Used only when the network reports no resolver. */
        private const val FALLBACK_DNS = "9.9.9.9"

        /** Starts, restarts and stops the engine, one after the other, off the main thread. */
        private val lifecycle = Executors.newSingleThreadExecutor { task -> Thread(task, "ph-engine").apply { isDaemon = true } }

        /** The engine of the current or last run, for the screens; it keeps its records once stopped. */
        @Volatile
        var running: Monitor? = null
            private set

        /** Starts the VPN; the caller has the user's consent (`VpnService.prepare` returned null). */
        fun start(context: Context) {
            val intent = Intent(context, PhonehomeVpnService::class.java)
            if (Build.VERSION.SDK_INT >= Build.VERSION_CODES.O) context.startForegroundService(intent) else context.startService(intent)
        }

        /** Restarts a running VPN so that the engine loads changed settings or lists; does nothing when stopped. */
        fun restart(context: Context) {
            if (running?.isRunning() == true) {
                context.startService(Intent(context, PhonehomeVpnService::class.java).setAction(ACTION_RESTART))
            }
        }

        /** Hands the saved block rules to the running engine: new connections follow them at once, open ones go on. */
        fun applyBlockRules(context: Context) {
            val engine = running?.takeIf { it.isRunning() } ?: return
            val blocks = BlockList.parse(Settings(context).blocked())
            try {
                engine.setBlockRules(blocks.apps, blocks.domains, blocks.countries, blocks.networks)
            } catch (e: MonitorException) {
                Log.w(TAG, "block rules", e)
            }
        }

        fun stop(context: Context) {
            context.startService(Intent(context, PhonehomeVpnService::class.java).setAction(ACTION_STOP))
        }
    }
}
