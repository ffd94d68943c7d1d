package org.phonehome.settings

import android.content.Context
import android.content.SharedPreferences
import org.phonehome.alerts.NotificationPrefs
import org.phonehome.model.Severity

/** The user's choices, in app-private shared preferences. */
class Settings(context: Context) {
    private val prefs: SharedPreferences = context.getSharedPreferences("settings", Context.MODE_PRIVATE)

    fun startAtBoot() = prefs.getBoolean(START_AT_BOOT, false)
    fun setStartAtBoot(value: Boolean) = prefs.edit().putBoolean(START_AT_BOOT, value).apply()

    fun firstContactAlerts() = prefs.getBoolean(FIRST_CONTACT, false)
    fun setFirstContactAlerts(value: Boolean) = prefs.edit().putBoolean(FIRST_CONTACT, value).apply()

    fun notificationPrefs() = NotificationPrefs(
        enabled = prefs.getBoolean(NOTIFY, true),
        minimum = Severity.entries.firstOrNull { it.name == prefs.getString(MIN_SEVERITY, null) } ?: Severity.MEDIUM,
        firstContact = firstContactAlerts(),
    )
    fun setNotifications(enabled: Boolean, minimum: Severity) =
        prefs.edit().putBoolean(NOTIFY, enabled).putString(MIN_SEVERITY, minimum.name).apply()

    fun watchedCountries(): List<String> = Watchlists.parseCountries(prefs.getString(COUNTRIES, "") ?: "").orEmpty()
    /** Saves [text] when it parses; returns whether it did. */
    fun setWatchedCountries(text: String): Boolean {
        val codes = Watchlists.parseCountries(text) ?: return false
        prefs.edit().putString(COUNTRIES, codes.joinToString(",")).apply()
        return true
    }

    /** Identifier values by key ([Watchlists.BUILT_IN_KEYS] or custom), one value per line. */
    fun identifier(key: String): List<String> = prefs.getString(ID_PREFIX + key, "")!!.lines().filter(String::isNotBlank)
    fun setIdentifier(key: String, values: List<String>) =
        prefs.edit().putString(ID_PREFIX + key, values.joinToString("\n")).apply()
    fun identifiersToml(): String? = Watchlists.identifiersToml(Watchlists.BUILT_IN_KEYS.associateWith(::identifier))

    fun excludedPackages(): List<String> = prefs.getStringSet(EXCLUDED, emptySet())!!.sorted()

    /** Destinations, domains, countries or apps the user chose to block, as `kind:value`. */
    fun blocked(): Set<String> = prefs.getStringSet(BLOCKED, emptySet())!!.toSet()
    fun block(rule: String) = prefs.edit().putStringSet(BLOCKED, blocked() + rule).apply()
    fun unblock(rule: String) = prefs.edit().putStringSet(BLOCKED, blocked() - rule).apply()

    /** Days between updates of the lists opted in to them. */
    fun listUpdateDays() = prefs.getInt(LIST_UPDATE_DAYS, 1)
    fun setListUpdateDays(days: Int) = prefs.edit().putInt(LIST_UPDATE_DAYS, days).apply()

    /** Lists update over any network; by default only over unmetered ones. */
    fun listUpdatesAnyNetwork() = prefs.getBoolean(LIST_UPDATE_ANY_NETWORK, false)
    fun setListUpdatesAnyNetwork(value: Boolean) = prefs.edit().putBoolean(LIST_UPDATE_ANY_NETWORK, value).apply()

    private companion object {
        const val START_AT_BOOT = "start_at_boot"
        const val FIRST_CONTACT = "first_contact_alerts"
        const val NOTIFY = "notify"
        const val MIN_SEVERITY = "min_severity"
        const val COUNTRIES = "watched_countries"
        const val ID_PREFIX = "id_"
        const val EXCLUDED = "excluded_packages"
        const val BLOCKED = "blocked"
        const val LIST_UPDATE_DAYS = "list_update_days"
        const val LIST_UPDATE_ANY_NETWORK = "list_update_any_network"
    }
}
