package org.phonehome.history

import android.content.Context
import android.os.Handler
import android.os.Looper
import org.phonehome.core.HistoryReader
import org.phonehome.core.HistoryReaderInterface
import java.io.File
import java.util.concurrent.Executor
import java.util.concurrent.Executors

/**
 * One reader on the history file, used from one background thread; each result is handed over on [deliver]
 * (the UI thread). A failed query drops the reader, so the next one reopens the file: a history that did not
 * exist yet, or was replaced, is read as soon as it is there.
 */
class HistoryQueries(
    /** The history file read. */
    val path: String,
    private val open: () -> HistoryReaderInterface,
    private val background: Executor,
    private val deliver: Executor,
) {
    private var reader: HistoryReaderInterface? = null // touched on the background thread only

    /** Runs [query] off the calling thread and hands its result or its error to [done] on the delivery thread. */
    fun <T> load(query: (HistoryReaderInterface) -> T, done: (Result<T>) -> Unit) {
        background.execute {
            val result = try {
                Result.success(query(reader ?: open().also { reader = it }))
            } catch (e: Exception) {
                (reader as? AutoCloseable)?.close()
                reader = null
                Result.failure(e)
            }
            deliver.execute { done(result) }
        }
    }

    companion object {
        @Volatile private var shared: HistoryQueries? = null

        /** The engine's history file (the VPN service passes this path as `MonitorConfig.historyPath`). */
        fun file(context: Context): File = File(context.filesDir, "history.sqlite")

        /**
         * The process-wide queries on [file], on a background thread of their own, delivered on the main thread
         * (new ones if the app's files folder moved, as between the JVM tests' applications).
         */
        fun of(context: Context): HistoryQueries {
            val path = file(context.applicationContext).path
            return shared?.takeIf { it.path == path } ?: synchronized(this) {
                shared?.takeIf { it.path == path } ?: run {
                    val main = Handler(Looper.getMainLooper())
                    val thread = Executors.newSingleThreadExecutor { task -> Thread(task, "history").apply { isDaemon = true } }
                    HistoryQueries(path, { HistoryReader.open(path) }, thread) { main.post(it) }.also { shared = it }
                }
            }
        }
    }
}
