package org.phonehome.ui

import org.junit.Assert.assertEquals
import org.junit.Test
import org.phonehome.apps.AppIdentity
import org.phonehome.store.AppSummary
import org.phonehome.model.Severity

class AppListModelTest {
    private fun row(uid: Int, label: String, bytes: ULong, worst: Severity?, alerts: ULong = 0u, system: Boolean = false) = AppRow(
        AppIdentity(uid, label, listOf("com.example.${label.lowercase()}"), system),
        AppSummary("uid:$uid", uid.toUInt(), label, 1u, bytes, 0u, alerts, worst, 1u, listOf("CN"), 0, 0),
    )

    private val rows = listOf(
        row(1, "Quiet", 10u, null),
        row(2, "Loud", 10_000u, Severity.LOW),
        row(3, "Leaky", 5u, Severity.HIGH, alerts = 1u, system = true),
        row(4, "Busy", 50_000u, Severity.LOW),
    )

    @Test
    fun `most severe first, then most traffic`() {
        assertEquals(listOf("Leaky", "Busy", "Loud", "Quiet"), AppListModel.rows(rows, AppFilter()).map { it.identity.label })
    }

    @Test
    fun `filters by text, package, uid, alerts and system`() {
        fun labels(filter: AppFilter) = AppListModel.rows(rows, filter).map { it.identity.label }
        assertEquals(listOf("Loud"), labels(AppFilter(query = "lou")))
        assertEquals(listOf("Busy"), labels(AppFilter(query = "com.example.busy")))
        assertEquals(listOf("Quiet"), labels(AppFilter(query = "1")))
        assertEquals(listOf("Leaky"), labels(AppFilter(onlyAlerts = true)))
        assertEquals(listOf("Busy", "Loud", "Quiet"), labels(AppFilter(hideSystem = true)))
    }
}
