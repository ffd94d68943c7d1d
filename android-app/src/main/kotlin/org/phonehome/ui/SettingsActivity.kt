package org.phonehome.ui

import android.annotation.SuppressLint
import android.app.Activity
import android.content.Intent
import android.os.Bundle
import android.provider.Settings.ACTION_VPN_SETTINGS
import android.provider.Settings.Secure
import android.view.View
import android.widget.AdapterView
import android.widget.ArrayAdapter
import android.widget.LinearLayout
import android.widget.Spinner
import org.phonehome.R
import org.phonehome.compat.Platform
import org.phonehome.model.Severity
import org.phonehome.lists.ListsActivity
import org.phonehome.settings.Settings
import org.phonehome.settings.Watchlists
import org.phonehome.ui.Widgets.card
import org.phonehome.ui.Widgets.empty
import org.phonehome.ui.Widgets.field
import org.phonehome.ui.Widgets.listRow
import org.phonehome.ui.Widgets.note
import org.phonehome.ui.Widgets.section
import org.phonehome.ui.Widgets.switchRow
import org.phonehome.ui.Widgets.textButton
import org.phonehome.vpn.PhonehomeVpnService
import org.phonehome.vpn.VpnStatus

/** Identifiers to watch, watched countries, notifications, the VPN, lists, and the block rules by name. */
class SettingsActivity : Activity() {
    private lateinit var settings: Settings
    private lateinit var looks: AppLooks

    override fun onCreate(savedInstanceState: Bundle?) {
        super.onCreate(savedInstanceState)
        settings = Settings(this)
        looks = AppLooks(this)
        prefillReadableIdentifiers()
    }

    override fun onResume() {
        super.onResume()
        render()
    }

    private fun render() {
        Ui.page(this) {
            section(getString(R.string.settings_identifiers))
            card {
                note(getString(R.string.settings_identifiers_help))
                Watchlists.BUILT_IN_KEYS.forEach { key ->
                    // Saved at every edit: leaving the screen with the keyboard open loses nothing.
                    field(identifierLabel(key), settings.identifier(key).joinToString("\n"), getString(R.string.identifier_hint)) { text ->
                        settings.setIdentifier(key, text.lines())
                    }
                }
                restartNote()
            }
            section(getString(R.string.settings_countries))
            card {
                field(getString(R.string.settings_countries_label), settings.watchedCountries().joinToString(", "), "CN, RU") { text ->
                    if (!settings.setWatchedCountries(text)) focusedError(getString(R.string.invalid_countries))
                }
                restartNote()
            }
            section(getString(R.string.settings_notifications))
            card {
                val prefs = settings.notificationPrefs()
                switchRow(getString(R.string.notify_enabled), getString(R.string.notify_enabled_help), prefs.enabled) { on ->
                    settings.setNotifications(on, settings.notificationPrefs().minimum)
                    if (on && Platform.needsNotificationPermission(this@SettingsActivity)) {
                        requestPermissions(arrayOf(Platform.POST_NOTIFICATIONS), MainActivity.REQUEST_NOTIFICATIONS)
                    }
                }
                severityPicker(prefs.minimum)
                switchRow(getString(R.string.first_contact), getString(R.string.first_contact_help), settings.firstContactAlerts(),
                    onChange = settings::setFirstContactAlerts)
            }
            section(getString(R.string.settings_vpn))
            card {
                switchRow(getString(R.string.start_at_boot), getString(R.string.start_at_boot_help), settings.startAtBoot(),
                    onChange = settings::setStartAtBoot)
                val excluded = settings.excludedPackages().size
                listRow(getString(R.string.exclusions), resources.getQuantityString(R.plurals.exclusions_count, excluded, excluded),
                    Widgets.symbol(context, R.drawable.ic_apps)) { Ui.open(this@SettingsActivity, ExclusionsActivity::class.java) }
                listRow(getString(R.string.always_on), getString(R.string.always_on_help), Widgets.symbol(context, R.drawable.ic_shield), lines = 3) {
                    Ui.launch(this@SettingsActivity, Intent(ACTION_VPN_SETTINGS))
                }
            }
            section(getString(R.string.settings_lists))
            card {
                listRow(getString(R.string.lists_manage), getString(R.string.lists_help), Widgets.symbol(context, R.drawable.ic_list), lines = 3) {
                    Ui.open(this@SettingsActivity, ListsActivity::class.java)
                }
            }
            section(getString(R.string.blocking))
            card {
                val rules = settings.blocked().sorted()
                if (rules.isEmpty()) empty(getString(R.string.no_blocking), R.drawable.ic_block)
                rules.forEach { rule ->
                    val (label, icon) = ruleLook(rule)
                    listRow(label, getString(R.string.tap_to_unblock), icon) {
                        settings.unblock(rule)
                        PhonehomeVpnService.applyBlockRules(this@SettingsActivity)
                        render()
                    }
                }
            }
        }
    }

    /** A block rule by name: the app's label and icon for `uid:…`, the kind in words for the others. */
    private fun ruleLook(rule: String): Pair<String, android.graphics.drawable.Drawable?> {
        val value = rule.substringAfter(':')
        return when (rule.substringBefore(':')) {
            "uid" -> {
                val identity = looks.identity(value.toIntOrNull())
                getString(R.string.rule_app, identity.label) to looks.icon(identity)
            }
            "domain" -> getString(R.string.rule_domain, value) to Widgets.symbol(this, R.drawable.ic_block)
            "country" -> getString(R.string.rule_country, value) to Widgets.symbol(this, R.drawable.ic_block)
            else -> getString(R.string.rule_server, value) to Widgets.symbol(this, R.drawable.ic_block)
        }
    }

    private fun LinearLayout.severityPicker(current: Severity) {
        val levels = Severity.entries.reversed() // most severe first
        val spinner = Spinner(context).apply {
            adapter = ArrayAdapter(context, android.R.layout.simple_spinner_dropdown_item, levels.map { Widgets.severityChip(context, it).text })
            setSelection(levels.indexOf(current))
            onItemSelectedListener = object : AdapterView.OnItemSelectedListener {
                override fun onItemSelected(parent: AdapterView<*>?, view: View?, position: Int, id: Long) =
                    settings.setNotifications(settings.notificationPrefs().enabled, levels[position])
                override fun onNothingSelected(parent: AdapterView<*>?) {}
            }
        }
        listRow(getString(R.string.notify_minimum), null, null)
        addView(spinner, LinearLayout.LayoutParams(LinearLayout.LayoutParams.MATCH_PARENT, LinearLayout.LayoutParams.WRAP_CONTENT).apply {
            setMargins(Ui.dp(this@SettingsActivity, 16), 0, Ui.dp(this@SettingsActivity, 16), Ui.dp(this@SettingsActivity, 8))
        })
    }

    /** Settings the engine reads at start: a running VPN restarts on request. */
    private fun LinearLayout.restartNote() {
        if (VpnStatus.current.running) textButton(getString(R.string.apply_restart)) { PhonehomeVpnService.restart(this@SettingsActivity) }
        else note(getString(R.string.applies_next_start))
    }

    private fun focusedError(message: String) {
        (currentFocus as? android.widget.EditText)?.error = message
    }

    private fun identifierLabel(key: String): String = when (key) {
        "imei" -> getString(R.string.id_imei)
        "imsi" -> getString(R.string.id_imsi)
        "iccid" -> getString(R.string.id_iccid)
        "phone" -> getString(R.string.id_phone)
        "mac" -> getString(R.string.id_mac)
        "bssid" -> getString(R.string.id_bssid)
        "android_id" -> getString(R.string.id_android_id)
        "ad_id" -> getString(R.string.id_ad_id)
        "serial" -> getString(R.string.id_serial)
        "email" -> getString(R.string.id_email)
        else -> key
    }

    /** Android 10+ hides IMEI, serial and the like from apps; the Android ID of this app is readable. */
    @SuppressLint("HardwareIds")
    private fun prefillReadableIdentifiers() {
        if (settings.identifier("android_id").isEmpty()) {
            Secure.getString(contentResolver, Secure.ANDROID_ID)?.let { settings.setIdentifier("android_id", listOf(it)) }
        }
    }
}
