package org.phonehome.alerts

import org.phonehome.model.AlertKind
import org.phonehome.model.AlertRecord
import org.phonehome.model.Severity

/** What the user chose to be notified of. */
data class NotificationPrefs(
    val enabled: Boolean = true,
    val minimum: Severity = Severity.MEDIUM,
    /** `new_destination` alerts (first contact of an app with a destination) are opt-in. */
    val firstContact: Boolean = false,
)

/** A notification to post: its channel, its per-app group, and text with identifiers redacted. */
data class AlertNotice(
    val channel: String,
    val group: String,
    val id: Int,
    val title: String,
    val text: String,
    /** Alerts of this app held back by the rate limit since its last notification. */
    val heldBack: Int,
)

/**
 * Decides which alerts become notifications: a channel per severity, one group per app, at most
 * [perAppLimit] notifications per app and [globalLimit] in all per [windowMillis]. Pure and thread-safe.
 */
class NotificationPolicy(
    private val prefs: () -> NotificationPrefs,
    private val perAppLimit: Int = 3,
    private val globalLimit: Int = 10,
    private val windowMillis: Long = 10 * 60 * 1000L,
) {
    private val perApp = HashMap<String, ArrayDeque<Long>>()
    private val global = ArrayDeque<Long>()
    private val heldBack = HashMap<String, Int>()
    private var nextId = FIRST_ID

    /** The notice for [alert] at [nowMillis], or null when it is filtered out or rate-limited. */
    @Synchronized
    fun decide(alert: AlertRecord, nowMillis: Long): AlertNotice? {
        val prefs = prefs()
        if (!prefs.enabled || alert.severity < prefs.minimum) return null
        if (alert.kind == AlertKind.NEW_DESTINATION && !prefs.firstContact) return null
        val group = groupOf(alert)
        val sent = perApp.getOrPut(group) { ArrayDeque() }
        expire(sent, nowMillis)
        expire(global, nowMillis)
        if (sent.size >= perAppLimit || global.size >= globalLimit) {
            heldBack[group] = (heldBack[group] ?: 0) + 1
            if (perApp.size > MAX_TRACKED_APPS) perApp.entries.removeAll { it.value.isEmpty() }
            return null
        }
        sent.addLast(nowMillis)
        global.addLast(nowMillis)
        val held = heldBack.remove(group) ?: 0
        return AlertNotice(
            channel = channelOf(alert.severity),
            group = group,
            id = nextId++.also { if (nextId == Int.MAX_VALUE) nextId = FIRST_ID },
            title = "${alert.app ?: alert.uid?.let { "uid $it" } ?: "Unknown app"}: ${describe(alert.kind)}",
            text = Redactor.redact(listOfNotNull(alert.host, alert.evidence).joinToString(" — ")),
            heldBack = held,
        )
    }

    private fun expire(times: ArrayDeque<Long>, now: Long) {
        while (times.isNotEmpty() && now - times.first() >= windowMillis) times.removeFirst()
    }

    companion object {
        /** Ids below this are the service's own notifications. */
        const val FIRST_ID = 1000
        private const val MAX_TRACKED_APPS = 1024

        /** One channel per severity, so the user sets sound and importance per level. */
        fun channelOf(severity: Severity) = "alerts_" + severity.name.lowercase()

        /** Notifications of one app are grouped together. */
        fun groupOf(alert: AlertRecord) = "app:" + (alert.uid?.toString() ?: "unknown")

        /** The alert kind in words. */
        fun describe(kind: AlertKind) = kind.name.lowercase().replace('_', ' ').replaceFirstChar { it.uppercase() }
    }
}
