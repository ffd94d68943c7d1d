package org.phonehome.ui

import android.annotation.SuppressLint
import android.app.Activity
import android.os.Bundle
import android.provider.Settings.Secure
import android.widget.CheckBox
import android.widget.EditText
import android.widget.LinearLayout
import android.widget.Spinner
import android.widget.ArrayAdapter
import android.widget.Toast
import org.phonehome.R
import org.phonehome.model.Severity
import org.phonehome.lists.ListsActivity
import org.phonehome.settings.Settings
import org.phonehome.settings.Watchlists
import org.phonehome.ui.Ui.button
import org.phonehome.ui.Ui.heading
import org.phonehome.ui.Ui.row
import org.phonehome.ui.Ui.text
import org.phonehome.vpn.PhonehomeVpnService

/** Identifiers to watch, watched countries, lists, notifications, start at boot and blocking rules. */
class SettingsActivity : Activity() {
    private lateinit var settings: Settings

    override fun onCreate(savedInstanceState: Bundle?) {
        super.onCreate(savedInstanceState)
        settings = Settings(this)
        render()
    }

    private fun render() {
        Ui.page(this) {
            heading(getString(R.string.settings_identifiers))
            text(getString(R.string.settings_identifiers_help))
            prefillReadableIdentifiers()
            Watchlists.BUILT_IN_KEYS.forEach { key -> identifierField(key) }
            heading(getString(R.string.settings_countries))
            val countries = EditText(context).apply { setText(settings.watchedCountries().joinToString(", ")) }
            addView(countries)
            button(getString(R.string.save)) {
                val ok = settings.setWatchedCountries(countries.text.toString())
                toast(if (ok) R.string.saved_restart else R.string.invalid_countries)
            }
            heading(getString(R.string.settings_notifications))
            val prefs = settings.notificationPrefs()
            val enabled = check(getString(R.string.notify_enabled), prefs.enabled) {}
            val minimum = Spinner(context).apply {
                adapter = ArrayAdapter(context, android.R.layout.simple_spinner_dropdown_item, Severity.entries.map { it.name.lowercase() })
                setSelection(prefs.minimum.ordinal)
            }
            addView(minimum)
            button(getString(R.string.save)) {
                settings.setNotifications(enabled.isChecked, Severity.entries[minimum.selectedItemPosition])
                toast(R.string.saved)
            }
            check(getString(R.string.first_contact), settings.firstContactAlerts(), settings::setFirstContactAlerts)
            heading(getString(R.string.settings_vpn))
            check(getString(R.string.start_at_boot), settings.startAtBoot(), settings::setStartAtBoot)
            text(getString(R.string.always_on_help))
            heading(getString(R.string.settings_lists))
            text(getString(R.string.lists_help))
            button(getString(R.string.lists_manage)) { Ui.open(this@SettingsActivity, ListsActivity::class.java) }
            heading(getString(R.string.blocking))
            val rules = settings.blocked().sorted()
            if (rules.isEmpty()) text(getString(R.string.no_blocking))
            rules.forEach { rule ->
                row(rule, getString(R.string.tap_to_unblock)) {
                    settings.unblock(rule)
                    PhonehomeVpnService.applyBlockRules(this@SettingsActivity)
                    render()
                }
            }
        }
    }

    /** Android 10+ hides IMEI, serial and the like from apps; the Android ID of this app is readable. */
    @SuppressLint("HardwareIds")
    private fun prefillReadableIdentifiers() {
        if (settings.identifier("android_id").isEmpty()) {
            Secure.getString(contentResolver, Secure.ANDROID_ID)?.let { settings.setIdentifier("android_id", listOf(it)) }
        }
    }

    private fun LinearLayout.identifierField(key: String) {
        val field = EditText(context).apply {
            hint = key
            setText(settings.identifier(key).joinToString("\n"))
        }
        addView(field)
        field.setOnFocusChangeListener { _, focused ->
            if (!focused) settings.setIdentifier(key, field.text.toString().lines())
        }
    }

    private fun LinearLayout.check(label: String, value: Boolean, onChange: (Boolean) -> Unit): CheckBox =
        CheckBox(context).also {
            it.text = label
            it.isChecked = value
            it.setOnCheckedChangeListener { _, checked -> onChange(checked) }
            addView(it)
        }

    private fun toast(text: Int) = Toast.makeText(this, text, Toast.LENGTH_SHORT).show()
}
