package org.phonehome.alerts

import android.app.Notification
import android.app.NotificationChannel
import android.app.NotificationManager
import android.app.PendingIntent
import android.content.Context
import android.content.Intent
import org.phonehome.R
import org.phonehome.model.AlertRecord
import org.phonehome.core.MonitorStats
import org.phonehome.model.Severity
import org.phonehome.settings.Settings
import org.phonehome.ui.FlowDetailActivity
import org.phonehome.ui.MainActivity

/** Posts the status notification and, through [NotificationPolicy], the alert notifications. */
class AlertNotifier(private val context: Context, settings: Settings) {
    private val manager = context.getSystemService(NotificationManager::class.java)
    private val policy = NotificationPolicy(settings::notificationPrefs)

    fun createChannels() {
        val status = NotificationChannel(STATUS_CHANNEL, context.getString(R.string.channel_status), NotificationManager.IMPORTANCE_LOW)
        val perSeverity = Severity.entries.map { severity ->
            val importance = when (severity) {
                Severity.HIGH -> NotificationManager.IMPORTANCE_HIGH
                Severity.MEDIUM -> NotificationManager.IMPORTANCE_DEFAULT
                else -> NotificationManager.IMPORTANCE_LOW
            }
            NotificationChannel(NotificationPolicy.channelOf(severity), severityLabel(severity), importance)
        }
        manager.createNotificationChannels(listOf(status) + perSeverity)
    }

    /** The ongoing notification with live counters (null stats: starting). */
    fun statusNotification(stats: MonitorStats?): Notification {
        val text = stats?.let {
            context.getString(R.string.status_counters, it.flowsFinished.toLong(), it.alerts.toLong(), it.packetsIn.toLong())
        } ?: context.getString(R.string.status_starting)
        return Notification.Builder(context, STATUS_CHANNEL)
            .setSmallIcon(R.drawable.ic_stat_phonehome)
            .setContentTitle(context.getString(R.string.status_title))
            .setContentText(text)
            .setOngoing(true)
            .setContentIntent(PendingIntent.getActivity(context, 0, Intent(context, MainActivity::class.java), PendingIntent.FLAG_IMMUTABLE))
            .build()
    }

    fun updateStatus(notification: Notification) = manager.notify(STATUS_ID, notification)

    /** Called on the engine's thread for every alert; posting is quick and never throws into the engine. */
    fun onAlert(alert: AlertRecord) {
        val notice = policy.decide(alert, System.currentTimeMillis()) ?: return
        val open = Intent(context, FlowDetailActivity::class.java).putExtras(FlowDetailActivity.extrasFor(alert))
        val text = if (notice.heldBack > 0) context.getString(R.string.alert_held_back, notice.text, notice.heldBack) else notice.text
        val child = Notification.Builder(context, notice.channel)
            .setSmallIcon(R.drawable.ic_stat_phonehome)
            .setContentTitle(notice.title)
            .setContentText(text)
            .setGroup(notice.group)
            .setVisibility(Notification.VISIBILITY_PRIVATE)
            .setAutoCancel(true)
            .setContentIntent(PendingIntent.getActivity(context, notice.id, open, PendingIntent.FLAG_IMMUTABLE or PendingIntent.FLAG_UPDATE_CURRENT))
            .build()
        val summary = Notification.Builder(context, notice.channel)
            .setSmallIcon(R.drawable.ic_stat_phonehome)
            .setContentTitle(notice.title)
            .setGroup(notice.group)
            .setGroupSummary(true)
            .setAutoCancel(true)
            .build()
        manager.notify(notice.id, child)
        manager.notify(SUMMARY_BASE + (notice.group.hashCode() and 0x1ff), summary)
    }

    private fun severityLabel(severity: Severity) = when (severity) {
        Severity.HIGH -> context.getString(R.string.channel_high)
        Severity.MEDIUM -> context.getString(R.string.channel_medium)
        Severity.LOW -> context.getString(R.string.channel_low)
        Severity.INFO -> context.getString(R.string.channel_info)
    }

    companion object {
        const val STATUS_CHANNEL = "status"
        const val STATUS_ID = 1
        /** Group summaries use ids SUMMARY_BASE..SUMMARY_BASE+511, below [NotificationPolicy.FIRST_ID]. */
        private const val SUMMARY_BASE = 2
    }
}
