package org.phonehome.alerts

import android.app.Notification
import android.app.NotificationManager
import android.app.PendingIntent
import android.content.Context
import android.content.Intent
import android.graphics.drawable.Icon
import org.phonehome.R
import org.phonehome.compat.Platform
import org.phonehome.model.AlertRecord
import org.phonehome.model.Severity
import org.phonehome.settings.Settings
import org.phonehome.ui.FlowDetailActivity
import org.phonehome.ui.MainActivity
import org.phonehome.vpn.Counters
import org.phonehome.vpn.PhonehomeVpnService
import java.util.concurrent.atomic.AtomicInteger

/** Posts the status notification and, through [NotificationPolicy], the alert notifications. */
class AlertNotifier(
    private val context: Context,
    settings: Settings,
    private val now: () -> Long = System::currentTimeMillis,
) {
    private val manager = context.getSystemService(NotificationManager::class.java)
    private val policy = NotificationPolicy(settings::notificationPrefs)
    private val status = Platform.Channel(STATUS_CHANNEL, context.getString(R.string.channel_status), NotificationManager.IMPORTANCE_LOW)
    private val perSeverity = Severity.entries.associateWith { severity ->
        val importance = when (severity) {
            Severity.HIGH -> NotificationManager.IMPORTANCE_HIGH
            Severity.MEDIUM -> NotificationManager.IMPORTANCE_DEFAULT
            else -> NotificationManager.IMPORTANCE_LOW
        }
        Platform.Channel(NotificationPolicy.channelOf(severity), severityLabel(severity), importance)
    }

    fun createChannels() = Platform.createChannels(manager, listOf(status) + perSeverity.values)

    /** The ongoing notification with live counters (null: starting), a tap to open the app and a Stop action. */
    fun statusNotification(counters: Counters?): Notification {
        val text = counters?.let {
            context.getString(R.string.status_counters, it.flowsFinished, it.alerts, it.openFlows)
        } ?: context.getString(R.string.status_starting)
        val stop = PendingIntent.getService(context, 0,
            Intent(context, PhonehomeVpnService::class.java).setAction(PhonehomeVpnService.ACTION_STOP), PendingIntent.FLAG_IMMUTABLE)
        return Platform.notificationBuilder(context, status)
            .setSmallIcon(R.drawable.ic_stat_phonehome)
            .setContentTitle(context.getString(R.string.status_title))
            .setContentText(text)
            .setOngoing(true)
            .setShowWhen(false)
            .setContentIntent(PendingIntent.getActivity(context, 0, Intent(context, MainActivity::class.java), PendingIntent.FLAG_IMMUTABLE))
            .addAction(Notification.Action.Builder(Icon.createWithResource(context, R.drawable.ic_action_stop), context.getString(R.string.action_stop_short), stop).build())
            .build()
    }

    fun updateStatus(notification: Notification) = manager.notify(STATUS_ID, notification)

    /** Called on the engine's thread for every alert; posting is quick and never throws into the engine. */
    fun onAlert(alert: AlertRecord) {
        val notice = policy.decide(alert, now()) ?: return
        if (!manager.areNotificationsEnabled()) {
            // Android 13+ without the permission, or notifications turned off: the dashboard offers to allow them.
            unseen.incrementAndGet()
            return
        }
        val channel = perSeverity.getValue(alert.severity)
        val open = Intent(context, FlowDetailActivity::class.java).putExtras(FlowDetailActivity.extrasFor(alert))
        val text = if (notice.heldBack > 0) context.getString(R.string.alert_held_back, notice.text, notice.heldBack) else notice.text
        val child = Platform.notificationBuilder(context, channel)
            .setSmallIcon(R.drawable.ic_stat_phonehome)
            .setContentTitle(notice.title)
            .setContentText(text)
            .setGroup(notice.group)
            .setVisibility(Notification.VISIBILITY_PRIVATE)
            .setPublicVersion(publicVersion(channel))
            .setAutoCancel(true)
            .setContentIntent(PendingIntent.getActivity(context, notice.id, open, PendingIntent.FLAG_IMMUTABLE or PendingIntent.FLAG_UPDATE_CURRENT))
            .build()
        val summary = Platform.notificationBuilder(context, channel)
            .setSmallIcon(R.drawable.ic_stat_phonehome)
            .setContentTitle(notice.title)
            .setGroup(notice.group)
            .setGroupSummary(true)
            .setAutoCancel(true)
            .build()
        manager.notify(notice.id, child)
        manager.notify(notice.summaryId, summary)
    }

    /** What the lock screen shows: that there is an alert, nothing of it. */
    private fun publicVersion(channel: Platform.Channel): Notification = Platform.notificationBuilder(context, channel)
        .setSmallIcon(R.drawable.ic_stat_phonehome)
        .setContentTitle(context.getString(R.string.alert_public))
        .build()

    private fun severityLabel(severity: Severity) = when (severity) {
        Severity.HIGH -> context.getString(R.string.channel_high)
        Severity.MEDIUM -> context.getString(R.string.channel_medium)
        Severity.LOW -> context.getString(R.string.channel_low)
        Severity.INFO -> context.getString(R.string.channel_info)
    }

    companion object {
        const val STATUS_CHANNEL = "status"
        const val STATUS_ID = 1

        /** Alerts that would have been notified while notifications were not allowed, since the app started. */
        val unseen = AtomicInteger()
    }
}
