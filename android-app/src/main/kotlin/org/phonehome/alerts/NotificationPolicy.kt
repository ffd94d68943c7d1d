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
    /** One of the app's [NotificationPolicy.perAppLimit] ids: a new notice replaces the app's oldest. */
    val id: Int,
    /** The id of the app's group summary. */
    val summaryId: Int,
    val title: String,
    val text: String,
    /** Alerts of this app held back by the rate limit since its last notification. */
    val heldBack: Int,
)

/**
 * Decides which alerts become notifications: a channel per severity, one group per app, at most
 * [perAppLimit] notifications per app and [globalLimit] in all per [windowMillis]. Ids are reused: each of
 * the latest [appSlots] apps owns [perAppLimit] ids in turn, so no app has more than [perAppLimit] active
 * notifications and ids stay in a fixed range. Pure and thread-safe.
 */
class NotificationPolicy(
    private val prefs: () -> NotificationPrefs,
    val perAppLimit: Int = 3,
    private val globalLimit: Int = 10,
    private val windowMillis: Long = 10 * 60 * 1000L,
    private val appSlots: Int = APP_SLOTS,
) {
    private val perApp = HashMap<String, ArrayDeque<Long>>()
    private val global = ArrayDeque<Long>()
    private val heldBack = HashMap<String, Int>()
    /** Group → its slot, least recently notified first; the slot of the oldest group is taken over when all are used. */
    private val slots = LinkedHashMap<String, Int>(16, 0.75f, true)
    private val posted = HashMap<String, Int>()

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
        val slot = slotOf(group)
        val turn = posted.getOrDefault(group, 0)
        posted[group] = (turn + 1) % perAppLimit
        return AlertNotice(
            channel = channelOf(alert.severity),
            group = group,
            id = FIRST_ID + slot * perAppLimit + turn,
            summaryId = SUMMARY_BASE + slot,
            title = "${alert.app ?: alert.uid?.let { "uid $it" } ?: "Unknown app"}: ${describe(alert.kind)}",
            text = Redactor.redact(listOfNotNull(alert.host, alert.evidence).joinToString(" — ")),
            heldBack = held,
        )
    }

    private fun slotOf(group: String): Int = slots[group] ?: run {
        val slot = if (slots.size < appSlots) {
            slots.size
        } else {
            val (oldest, freed) = slots.entries.first()
            slots.remove(oldest)
            posted.remove(oldest)
            freed
        }
        slots[group] = slot
        slot
    }

    private fun expire(times: ArrayDeque<Long>, now: Long) {
        while (times.isNotEmpty() && now - times.first() >= windowMillis) times.removeFirst()
    }

    companion object {
        /** Ids below [SUMMARY_BASE] are the service's own notifications. */
        const val SUMMARY_BASE = 100
        /** Apps with ids of their own at once; past them, the app notified longest ago gives its ids up. */
        const val APP_SLOTS = 200
        const val FIRST_ID = SUMMARY_BASE + APP_SLOTS
        private const val MAX_TRACKED_APPS = 1024

        /** One channel per severity, so the user sets sound and importance per level. */
        fun channelOf(severity: Severity) = "alerts_" + severity.name.lowercase()

        /** Notifications of one app are grouped together. */
        fun groupOf(alert: AlertRecord) = "app:" + (alert.uid?.toString() ?: "unknown")

        /** The alert kind in words. */
        fun describe(kind: AlertKind) = kind.name.lowercase().replace('_', ' ').replaceFirstChar { it.uppercase() }
    }
}
