package org.phonehome.lists

import android.app.Activity
import android.app.AlertDialog
import android.content.Intent
import android.net.Uri
import android.os.Bundle
import android.provider.OpenableColumns
import android.text.InputType
import android.widget.ArrayAdapter
import android.widget.CheckBox
import android.widget.EditText
import android.widget.LinearLayout
import android.widget.Spinner
import android.widget.Toast
import org.phonehome.R
import org.phonehome.core.ListKind
import org.phonehome.settings.Settings
import org.phonehome.ui.Ui
import org.phonehome.ui.Widgets
import org.phonehome.ui.Widgets.card
import org.phonehome.ui.Widgets.empty
import org.phonehome.ui.Widgets.listRow
import org.phonehome.ui.Widgets.note
import org.phonehome.ui.Widgets.section
import org.phonehome.ui.Widgets.switchRow
import org.phonehome.vpn.PhonehomeVpnService
import java.text.DateFormat
import java.util.Date
import kotlin.concurrent.thread

/** The user's block lists: import from a file, add by https URL, enable, update (opt-in), remove. */
class ListsActivity : Activity() {
    private lateinit var catalog: ListCatalog
    private lateinit var settings: Settings
    private lateinit var updater: ListUpdater

    override fun onCreate(savedInstanceState: Bundle?) {
        super.onCreate(savedInstanceState)
        catalog = ListUpdateJob.catalog(this)
        settings = Settings(this)
        updater = ListUpdater(catalog, ListDownloader())
        render()
    }

    private fun render() {
        Ui.page(this) {
            card {
                note(getString(R.string.lists_formats))
                listRow(getString(R.string.list_import_file), null, Widgets.symbol(context, R.drawable.ic_save)) {
                    val pick = Intent(Intent.ACTION_OPEN_DOCUMENT).addCategory(Intent.CATEGORY_OPENABLE).setType("*/*")
                    Ui.launch(this@ListsActivity, pick, REQUEST_IMPORT)
                }
                listRow(getString(R.string.list_add_url), null, Widgets.symbol(context, R.drawable.ic_list)) { askDetails(null, withUrl = true) }
            }
            section(getString(R.string.settings_lists))
            card {
                val entries = catalog.entries()
                if (entries.isEmpty()) empty(getString(R.string.no_lists), R.drawable.ic_list)
                entries.forEach { entry ->
                    val chips = listOf(Widgets.tagChip(context, entry.kind.name.lowercase())) +
                        listOfNotNull(Widgets.tagChip(context, getString(R.string.list_off)).takeIf { !entry.enabled })
                    listRow(entry.name, detail(entry), null, chips, lines = 5) { actions(entry) }
                }
            }
            section(getString(R.string.list_updates))
            card {
                note(getString(R.string.list_updates_help))
                switchRow(getString(R.string.list_updates_any_network), null, settings.listUpdatesAnyNetwork()) { checked ->
                    settings.setListUpdatesAnyNetwork(checked)
                    ListUpdateJob.sync(this@ListsActivity)
                }
                val periods = listOf(1, 7)
                addView(Spinner(context).apply {
                    adapter = ArrayAdapter(context, android.R.layout.simple_spinner_dropdown_item,
                        listOf(getString(R.string.list_updates_daily), getString(R.string.list_updates_weekly)))
                    setSelection(periods.indexOf(settings.listUpdateDays()).coerceAtLeast(0))
                    onItemSelectedListener = Selected { position ->
                        val days = periods[position]
                        if (days != settings.listUpdateDays()) {
                            settings.setListUpdateDays(days)
                            ListUpdateJob.sync(this@ListsActivity)
                        }
                    }
                }, LinearLayout.LayoutParams(LinearLayout.LayoutParams.MATCH_PARENT, LinearLayout.LayoutParams.WRAP_CONTENT).apply {
                    setMargins(Ui.dp(this@ListsActivity, 16), 0, Ui.dp(this@ListsActivity, 16), Ui.dp(this@ListsActivity, 8))
                })
            }
        }
    }

    private fun detail(entry: ListEntry): String = buildList {
        add(getString(R.string.list_entries, entry.domains, entry.networks))
        entry.updatedAt?.let { add(getString(R.string.list_updated_at, DateFormat.getDateTimeInstance().format(Date(it)))) }
        add(entry.url?.let { getString(R.string.list_source_url, it) } ?: getString(R.string.list_source_file))
        if (entry.updatable) add(getString(if (entry.autoUpdate) R.string.list_auto_on else R.string.list_auto_off))
        entry.error?.let { add(getString(R.string.list_last_error, it)) }
    }.joinToString("\n")

    private fun actions(entry: ListEntry) {
        val choices = buildList<Pair<Int, () -> Unit>> {
            add((if (entry.enabled) R.string.list_disable else R.string.list_enable) to {
                catalog.update(entry.id) { it.copy(enabled = !it.enabled) }
                changed()
            })
            if (entry.updatable) {
                add((if (entry.autoUpdate) R.string.list_auto_disable else R.string.list_auto_enable) to {
                    catalog.update(entry.id) { it.copy(autoUpdate = !it.autoUpdate) }
                    ListUpdateJob.sync(this@ListsActivity)
                    render()
                })
                add(R.string.list_update_now to { work { updater.refresh(entry.id) } })
            }
            add(R.string.list_remove to {
                catalog.remove(entry.id)
                changed()
            })
        }
        AlertDialog.Builder(this)
            .setTitle(entry.name)
            .setItems(choices.map { getString(it.first) }.toTypedArray()) { _, which -> choices[which].second() }
            .show()
    }

    /** Asks a new list's name and kind (and its URL when [withUrl]), then imports [picked] or downloads the URL. */
    private fun askDetails(picked: Uri?, withUrl: Boolean) {
        val form = LinearLayout(this).apply {
            orientation = LinearLayout.VERTICAL
            val pad = Ui.dp(this@ListsActivity, 16)
            setPadding(pad, 0, pad, 0)
        }
        val url = EditText(this).apply {
            hint = getString(R.string.list_url_hint)
            inputType = InputType.TYPE_CLASS_TEXT or InputType.TYPE_TEXT_VARIATION_URI
        }
        val name = EditText(this).apply {
            hint = getString(R.string.list_name_hint)
            setText(picked?.let(::displayName).orEmpty())
        }
        val kind = Spinner(this).apply {
            adapter = ArrayAdapter(context, android.R.layout.simple_spinner_dropdown_item, ListKind.entries.map { it.name.lowercase() })
        }
        val auto = CheckBox(this).apply { text = getString(R.string.list_auto_enable) }
        if (withUrl) form.addView(url)
        form.addView(name)
        form.addView(kind)
        if (withUrl) form.addView(auto)
        AlertDialog.Builder(this)
            .setTitle(if (withUrl) R.string.list_add_url else R.string.list_import_file)
            .setView(form)
            .setNegativeButton(android.R.string.cancel, null)
            .setPositiveButton(android.R.string.ok) { _, _ ->
                val chosen = ListKind.entries[kind.selectedItemPosition]
                val title = name.text.toString().trim()
                if (picked != null) {
                    work { importPicked(picked, title.ifEmpty { getString(R.string.settings_lists) }, chosen) }
                } else {
                    val address = url.text.toString()
                    val label = title.ifEmpty { Uri.parse(address).host ?: address }
                    work { updater.add(address, label, chosen, auto.isChecked) }
                }
            }
            .show()
    }

    private fun importPicked(uri: Uri, name: String, kind: ListKind): Outcome = try {
        contentResolver.openInputStream(uri)?.use { updater.import(it, name, kind) } ?: Outcome.Failed(uri.toString())
    } catch (e: Exception) { // the provider's errors: missing file, revoked permission
        Outcome.Failed(e.message ?: e.javaClass.simpleName)
    }

    private fun displayName(uri: Uri): String? =
        contentResolver.query(uri, arrayOf(OpenableColumns.DISPLAY_NAME), null, null, null)?.use { cursor ->
            if (cursor.moveToFirst()) cursor.getString(0)?.substringBeforeLast('.') else null
        }

    /** Runs [task] off the main thread (file copies, downloads, validation), then reports and refreshes. */
    private fun work(task: () -> Outcome) {
        toast(getString(R.string.list_working))
        thread(name = "ph-lists") {
            val outcome = try {
                task()
            } catch (e: Exception) { // a full disk, an unexpected reply: reported, never a crash
                Outcome.Failed(e.message ?: e.javaClass.simpleName)
            }
            runOnUiThread {
                toast(when (outcome) {
                    is Outcome.Updated -> getString(R.string.list_saved, outcome.entry.domains, outcome.entry.networks)
                    is Outcome.Unchanged -> getString(R.string.list_unchanged)
                    is Outcome.Failed -> getString(R.string.list_failed, outcome.reason)
                })
                if (outcome is Outcome.Updated) changed() else render()
            }
        }
    }

    /** The lists the engine loads changed: reschedule updates, restart a running VPN, redraw. */
    private fun changed() {
        ListUpdateJob.sync(this)
        PhonehomeVpnService.restart(this)
        render()
    }

    @Deprecated("platform Activity API")
    override fun onActivityResult(requestCode: Int, resultCode: Int, data: Intent?) {
        if (requestCode == REQUEST_IMPORT && resultCode == RESULT_OK) data?.data?.let { askDetails(it, withUrl = false) }
    }

    private fun toast(text: String) = Toast.makeText(this, text, Toast.LENGTH_LONG).show()

    /** A spinner listener for selections only. */
    private class Selected(private val onSelected: (Int) -> Unit) : android.widget.AdapterView.OnItemSelectedListener {
        override fun onItemSelected(parent: android.widget.AdapterView<*>?, view: android.view.View?, position: Int, id: Long) =
            onSelected(position)
        override fun onNothingSelected(parent: android.widget.AdapterView<*>?) {}
    }

    private companion object {
        const val REQUEST_IMPORT = 1
    }
}
