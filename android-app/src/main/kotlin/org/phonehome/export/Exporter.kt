package org.phonehome.export

import android.content.ContentProvider
import android.content.ContentValues
import android.content.Context
import android.content.Intent
import android.database.Cursor
import android.database.MatrixCursor
import android.net.Uri
import android.os.Handler
import android.os.Looper
import android.os.ParcelFileDescriptor
import android.provider.OpenableColumns
import android.util.Log
import org.phonehome.core.HistoryReader
import org.phonehome.history.HistoryQueries
import java.io.File
import java.util.concurrent.Executors

/**
 * Exports the whole history (what the engine kept, across runs, also with the VPN off) through the Storage
 * Access Framework (a document the user picks) and the share sheet. Writing runs on a background thread;
 * results arrive on the main thread.
 */
class Exporter(private val context: Context) {
    private val writer = ExportWriter { kind, fd ->
        HistoryReader.open(HistoryQueries.file(context).path).use { history ->
            when (kind) {
                ExportKind.FLOWS_CSV -> history.exportFlowsCsv(fd)
                ExportKind.ALERTS_JSONL -> history.exportAlertsJsonl(fd)
            }.toLong()
        }
    }
    private val main = Handler(Looper.getMainLooper())

    /** The `ACTION_CREATE_DOCUMENT` intent for [kind]. */
    fun createDocument(kind: ExportKind): Intent = Intent(Intent.ACTION_CREATE_DOCUMENT)
        .addCategory(Intent.CATEGORY_OPENABLE)
        .setType(kind.mimeType)
        .putExtra(Intent.EXTRA_TITLE, kind.fileName(System.currentTimeMillis()))

    /** Writes [kind] into the document the user created; [done] gets the rows, or null when nothing was written. */
    fun save(kind: ExportKind, uri: Uri, done: (Long?) -> Unit) = inBackground(done) {
        attempt { writer.write(kind) { open(openForWriting(uri)) } }
    }

    /**
     * The document opened to be overwritten ("wt"); providers that refuse "wt" (some cloud and vendor
     * providers) get "w", which for the new, empty document ACTION_CREATE_DOCUMENT made is the same.
     */
    private fun openForWriting(uri: Uri): ParcelFileDescriptor? = try {
        context.contentResolver.openFileDescriptor(uri, "wt")
    } catch (e: Exception) {
        if (e !is IllegalArgumentException && e !is UnsupportedOperationException && e !is java.io.FileNotFoundException) throw e
        Log.i(TAG, "the provider refused mode wt; writing with w", e)
        context.contentResolver.openFileDescriptor(uri, "w")
    }

    /** [done] gets a share-sheet intent for a fresh copy of [kind] in the app's cache, or null when there is nothing. */
    fun share(kind: ExportKind, done: (Intent?) -> Unit) = inBackground(done) {
        val dir = File(context.cacheDir, ExportProvider.DIR).apply { mkdirs() }
        val file = File(dir, kind.fileName(System.currentTimeMillis()))
        attempt {
            writer.write(kind) {
                open(ParcelFileDescriptor.open(file, ParcelFileDescriptor.MODE_WRITE_ONLY or ParcelFileDescriptor.MODE_CREATE or ParcelFileDescriptor.MODE_TRUNCATE))
            }
        }?.let {
            pruneOldest(dir.listFiles().orEmpty().toList(), KEEP_SHARED, File::lastModified) { it.delete() }
            val send = Intent(Intent.ACTION_SEND)
                .setType(kind.mimeType)
                .putExtra(Intent.EXTRA_STREAM, ExportProvider.uriFor(context, file))
                .addFlags(Intent.FLAG_GRANT_READ_URI_PERMISSION)
            Intent.createChooser(send, file.name)
        }
    }

    private fun <T> inBackground(done: (T) -> Unit, work: () -> T) {
        background.execute {
            val result = work()
            main.post { done(result) }
        }
    }

    private fun open(pfd: ParcelFileDescriptor?): ExportTarget {
        val descriptor = pfd ?: throw java.io.FileNotFoundException("the document could not be opened")
        return object : ExportTarget {
            override val fd = descriptor.fd
            override fun close() = descriptor.close()
        }
    }

    /** Runs an export; any failure (no history yet, a provider refusing the document, a full disk) is null. */
    private fun <T> attempt(block: () -> T): T? = try {
        block()
    } catch (e: Exception) {
        Log.w(TAG, "export", e)
        null
    }

    private companion object {
        const val KEEP_SHARED = 4
        const val TAG = "phonehome"

        /** One thread for every exporter of the process (activities come and go). */
        val background = Executors.newSingleThreadExecutor { task -> Thread(task, "export").apply { isDaemon = true } }
    }
}

/** Serves the share-sheet copies read-only from the app's cache (the platform has no FileProvider). */
class ExportProvider : ContentProvider() {
    override fun onCreate() = true

    override fun openFile(uri: Uri, mode: String): ParcelFileDescriptor {
        require(mode == "r") { "read-only" }
        return ParcelFileDescriptor.open(fileOf(uri), ParcelFileDescriptor.MODE_READ_ONLY)
    }

    override fun query(uri: Uri, projection: Array<out String>?, selection: String?, args: Array<out String>?, sort: String?): Cursor {
        val file = fileOf(uri)
        return MatrixCursor(arrayOf(OpenableColumns.DISPLAY_NAME, OpenableColumns.SIZE)).apply { addRow(arrayOf(file.name, file.length())) }
    }

    override fun getType(uri: Uri): String? = ExportKind.entries.firstOrNull { uri.lastPathSegment?.endsWith(it.extension) == true }?.mimeType

    override fun insert(uri: Uri, values: ContentValues?): Uri? = null
    override fun delete(uri: Uri, selection: String?, args: Array<out String>?) = 0
    override fun update(uri: Uri, values: ContentValues?, selection: String?, args: Array<out String>?) = 0

    /** Only plain names inside the export folder: no path may escape it. */
    private fun fileOf(uri: Uri): File {
        val name = uri.lastPathSegment ?: throw IllegalArgumentException("no file")
        require(name.isNotEmpty() && '/' !in name && name != "." && name != "..") { "bad name" }
        return File(File(context!!.cacheDir, DIR), name)
    }

    companion object {
        const val DIR = "exports"
        fun uriFor(context: Context, file: File): Uri = Uri.parse("content://${context.packageName}.exports/${Uri.encode(file.name)}")
    }
}
