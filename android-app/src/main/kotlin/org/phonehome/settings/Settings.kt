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

    /** The VPN was running when the app last knew (restarted after an update of the app). */
    fun wantRunning() = prefs.getBoolean(WANT_RUNNING, false)
    fun setWantRunning(value: Boolean) = prefs.edit().putBoolean(WANT_RUNNING, value).apply()

    /** The first-run explanation was read and accepted. */
    fun onboarded() = prefs.getBoolean(ONBOARDED, false)
    fun setOnboarded() = prefs.edit().putBoolean(ONBOARDED, true).apply()

    /** The notification permission was asked once (Android 13+): after a refusal only Settings can grant it. */
    fun notificationsAsked() = prefs.getBoolean(NOTIFICATIONS_ASKED, false)
    fun setNotificationsAsked() = prefs.edit().putBoolean(NOTIFICATIONS_ASKED, true).apply()

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
    fun identifier(key: String): List<String> = prefs.getString(ID_PREFIX + key, null).orEmpty().lines().filter(String::isNotBlank)
    fun setIdentifier(key: String, values: List<String>) =
        prefs.edit().putString(ID_PREFIX + key, values.joinToString("\n")).apply()
    fun identifiersToml(): String? = Watchlists.identifiersToml(Watchlists.BUILT_IN_KEYS.associateWith(::identifier))

    /** Packages kept outside the VPN (their traffic is neither seen nor blocked). */
    fun excludedPackages(): List<String> = prefs.getStringSet(EXCLUDED, emptySet()).orEmpty().sorted()
    fun setExcluded(packageName: String, excluded: Boolean) {
        val now = excludedPackages().toSet()
        prefs.edit().putStringSet(EXCLUDED, if (excluded) now + packageName else now - packageName).apply()
    }

    /** Destinations, domains, countries or apps the user chose to block, as `kind:value`. */
    fun blocked(): Set<String> = prefs.getStringSet(BLOCKED, emptySet()).orEmpty().toSet()
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
        const val WANT_RUNNING = "want_running"
        const val ONBOARDED = "onboarded"
        const val NOTIFICATIONS_ASKED = "notifications_asked"
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
