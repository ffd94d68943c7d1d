package org.phonehome.compat

import android.annotation.SuppressLint
import android.app.Notification
import android.app.NotificationChannel
import android.app.NotificationManager
import android.app.Service
import android.content.Context
import android.content.Intent
import android.content.pm.PackageManager
import android.content.pm.ServiceInfo
import android.graphics.Rect
import android.net.ConnectivityManager
import android.net.LinkProperties
import android.net.VpnService
import android.os.Build
import android.os.Process
import android.view.WindowInsets
import java.net.InetSocketAddress

/**
 * Every call the app makes above its minSdk (24), each behind its version check. The rest of the app is
 * compiled against the API 24 jar (scripts/android-env.sh), so a call above 24 anywhere else does not build;
 * the Robolectric tests run each function here on API 24, 29, 33 and 36.
 */
object Platform {
    val sdk: Int get() = Build.VERSION.SDK_INT

    private const val O = 26
    private const val P = 28
    private const val Q = 29
    private const val R = 30
    private const val TIRAMISU = 33
    private const val UPSIDE_DOWN_CAKE = 34

    /** A channel as the app describes it; on Android 7 channels do not exist and importance maps to priority. */
    class Channel(val id: String, val name: String, val importance: Int)

    fun createChannels(manager: NotificationManager, channels: List<Channel>) {
        if (sdk >= O) manager.createNotificationChannels(channels.map { NotificationChannel(it.id, it.name, it.importance) })
    }

    /** A builder posting on [channel] (Android 8+), or with the channel's importance as priority before. */
    @Suppress("DEPRECATION")
    fun notificationBuilder(context: Context, channel: Channel): Notification.Builder =
        if (sdk >= O) {
            Notification.Builder(context, channel.id)
        } else {
            Notification.Builder(context).setPriority(priorityOf(channel.importance))
        }

    @Suppress("DEPRECATION")
    private fun priorityOf(importance: Int) = when {
        importance >= NotificationManager.IMPORTANCE_HIGH -> Notification.PRIORITY_HIGH
        importance >= NotificationManager.IMPORTANCE_DEFAULT -> Notification.PRIORITY_DEFAULT
        else -> Notification.PRIORITY_LOW
    }

    /** Android 13+ asks the user before an app may post notifications. */
    const val POST_NOTIFICATIONS = "android.permission.POST_NOTIFICATIONS"

    /** Whether the runtime notification permission must still be asked (Android 13+, not yet granted). */
    fun needsNotificationPermission(context: Context): Boolean =
        sdk >= TIRAMISU && context.checkSelfPermission(POST_NOTIFICATIONS) != PackageManager.PERMISSION_GRANTED

    /** The screen where the user allows this app's notifications (per app on Android 8+, the app's page before). */
    fun notificationSettings(context: Context): Intent = if (sdk >= O) {
        Intent(android.provider.Settings.ACTION_APP_NOTIFICATION_SETTINGS).putExtra(android.provider.Settings.EXTRA_APP_PACKAGE, context.packageName)
    } else {
        Intent(android.provider.Settings.ACTION_APPLICATION_DETAILS_SETTINGS, android.net.Uri.fromParts("package", context.packageName, null))
    }

    /** Opens [intent] from a Quick Settings tile and collapses the shade (a PendingIntent is required on 14+). */
    @Suppress("DEPRECATION")
    fun startFromTile(tile: android.service.quicksettings.TileService, intent: Intent) {
        if (sdk >= UPSIDE_DOWN_CAKE) {
            val pending = android.app.PendingIntent.getActivity(tile, 0, intent, android.app.PendingIntent.FLAG_IMMUTABLE)
            tile.startActivityAndCollapse(pending)
        } else {
            tile.startActivityAndCollapse(intent.addFlags(Intent.FLAG_ACTIVITY_NEW_TASK))
        }
    }

    /** Starts [intent]'s service in the foreground (Android 8+ needs the foreground variant from the background). */
    fun startForegroundService(context: Context, intent: Intent) {
        if (sdk >= O) context.startForegroundService(intent) else context.startService(intent)
    }

    /**
     * Makes [service] a foreground service with the VPN's type on Android 14+. False when the system refuses
     * (Android 12+ throws `ForegroundServiceStartNotAllowedException`, an IllegalStateException, e.g. for a
     * sticky restart from the background).
     */
    fun startForeground(service: Service, id: Int, notification: Notification): Boolean = try {
        if (sdk >= UPSIDE_DOWN_CAKE) {
            service.startForeground(id, notification, ServiceInfo.FOREGROUND_SERVICE_TYPE_SPECIAL_USE)
        } else {
            service.startForeground(id, notification)
        }
        true
    } catch (_: IllegalStateException) {
        false
    }

    /** Android 10+: tells apps the VPN is not metered by itself. */
    fun setUnmetered(builder: VpnService.Builder) {
        if (sdk >= Q) builder.setMetered(false)
    }

    /** Whether the platform says who owns a connection (Android 10+); before, `/proc/net` is read. */
    val hasConnectionOwners: Boolean get() = sdk >= Q

    /** The uid owning a connection (Android 10+), or null. */
    fun connectionOwnerUid(connectivity: ConnectivityManager, protocol: Int, local: InetSocketAddress, remote: InetSocketAddress): Int? {
        if (sdk < Q) return null
        return connectivity.getConnectionOwnerUid(protocol, local, remote).takeIf { it != Process.INVALID_UID }
    }

    /** Private DNS (Android 9+): whether it is on for [properties], and the host of its strict mode. */
    data class PrivateDns(val active: Boolean, val strictServer: String?)

    fun privateDns(properties: LinkProperties): PrivateDns =
        if (sdk >= P) PrivateDns(properties.isPrivateDnsActive, properties.privateDnsServerName) else PrivateDns(false, null)

    /** The system bars' and cut-out's insets (Android 11+ by type, before as the system window insets). */
    @SuppressLint("NewApi")
    @Suppress("DEPRECATION")
    fun systemBars(insets: WindowInsets): Rect = if (sdk >= R) {
        val bars = insets.getInsets(WindowInsets.Type.systemBars() or WindowInsets.Type.displayCutout())
        Rect(bars.left, bars.top, bars.right, bars.bottom)
    } else {
        Rect(insets.systemWindowInsetLeft, insets.systemWindowInsetTop, insets.systemWindowInsetRight, insets.systemWindowInsetBottom)
    }
}
