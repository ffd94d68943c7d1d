package org.phonehome.lists

import android.app.job.JobInfo
import android.app.job.JobParameters
import android.app.job.JobScheduler
import android.app.job.JobService
import android.content.ComponentName
import android.content.Context
import android.util.Log
import org.phonehome.settings.Settings
import org.phonehome.vpn.PhonehomeVpnService
import java.io.File
import java.util.concurrent.TimeUnit
import kotlin.concurrent.thread

/** When and over which networks the periodic update job runs. */
data class UpdateSchedule(val intervalMillis: Long, val anyNetwork: Boolean) {
    companion object {
        /** The job's schedule, or null when no list is opted in to updates (then the app makes no request). */
        fun of(entries: List<ListEntry>, days: Int, anyNetwork: Boolean): UpdateSchedule? =
            if (entries.none { it.updatable && it.autoUpdate }) null
            else UpdateSchedule(TimeUnit.DAYS.toMillis(days.coerceIn(1, MAX_DAYS).toLong()), anyNetwork)

        const val MAX_DAYS = 30
    }
}

/** The periodic update of opted-in lists; restarts a running VPN when a list changed, so the engine loads it. */
class ListUpdateJob : JobService() {
    override fun onStartJob(params: JobParameters): Boolean {
        val interval = TimeUnit.DAYS.toMillis(Settings(this).listUpdateDays().toLong())
        thread(name = "ph-list-update") {
            try {
                val changed = ListUpdater(catalog(this), ListDownloader()).updateDue(interval)
                if (changed) PhonehomeVpnService.restart(this)
            } catch (e: Exception) { // a full disk, a malformed stored header: the next run tries again
                Log.w("phonehome", "list update", e)
            } finally {
                jobFinished(params, false)
            }
        }
        return true
    }

    /** Stopped early (network lost): run again later; what was installed stays, the rest is asked next time. */
    override fun onStopJob(params: JobParameters) = true

    companion object {
        private const val JOB_ID = 0x6c697374 // "list"

        /** The lists in app-private storage. */
        fun catalog(context: Context) = ListCatalog(File(context.filesDir, "lists"))

        /** Schedules the job as the lists and settings ask, or cancels it when no list is opted in. */
        fun sync(context: Context) {
            val scheduler = context.getSystemService(JobScheduler::class.java)
            val settings = Settings(context)
            val schedule = UpdateSchedule.of(catalog(context).entries(), settings.listUpdateDays(), settings.listUpdatesAnyNetwork())
            if (schedule == null) {
                scheduler.cancel(JOB_ID)
                return
            }
            val network = if (schedule.anyNetwork) JobInfo.NETWORK_TYPE_ANY else JobInfo.NETWORK_TYPE_UNMETERED
            val job = JobInfo.Builder(JOB_ID, ComponentName(context, ListUpdateJob::class.java))
                .setPeriodic(schedule.intervalMillis)
                .setRequiredNetworkType(network)
                .setPersisted(true)
                .build()
            scheduler.schedule(job)
        }
    }
}
