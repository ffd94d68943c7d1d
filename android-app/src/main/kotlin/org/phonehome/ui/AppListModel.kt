package org.phonehome.ui

import org.phonehome.apps.AppIdentity
import org.phonehome.store.AppSummary

/** One row of the apps screen: who the app is and what the history holds about it. */
data class AppRow(val identity: AppIdentity, val history: AppSummary) {
    val bytes: Long get() = (history.bytesOut + history.bytesIn).toLong()
}

/** What the user narrowed the apps list to. */
data class AppFilter(val query: String = "", val onlyAlerts: Boolean = false, val hideSystem: Boolean = false)

/** Sorting and filtering of the apps screen: most severe first, then most traffic. */
object AppListModel {
    fun rows(rows: List<AppRow>, filter: AppFilter): List<AppRow> {
        val query = filter.query.trim().lowercase()
        return rows.filter { row ->
            (!filter.onlyAlerts || row.history.alerts > 0u) &&
                (!filter.hideSystem || !row.identity.system) &&
                (query.isEmpty() || row.identity.label.lowercase().contains(query) ||
                    row.identity.packages.any { it.lowercase().contains(query) } ||
                    row.identity.uid.toString() == query)
        }.sortedWith(
            compareByDescending<AppRow> { it.history.maxSeverity?.ordinal ?: -1 }
                .thenByDescending { it.bytes }
                .thenBy { it.identity.label },
        )
    }
}
