package org.phonehome.export

import java.text.SimpleDateFormat
import java.util.Date
import java.util.Locale
import java.util.TimeZone

/** The two exports: flows as RFC 4180 CSV, alerts as JSON lines. */
enum class ExportKind(val mimeType: String, val prefix: String, val extension: String) {
    FLOWS_CSV("text/csv", "phonehome-flows", "csv"),
    ALERTS_JSONL("application/x-ndjson", "phonehome-alerts", "jsonl");

    /** `phonehome-flows-20261121-120000Z.csv`: sortable, UTC, no characters a file system rejects. */
    fun fileName(nowMillis: Long): String {
        val format = SimpleDateFormat("yyyyMMdd-HHmmss", Locale.ROOT).apply { timeZone = TimeZone.getTimeZone("UTC") }
        return "$prefix-${format.format(Date(nowMillis))}Z.$extension"
    }
}

/** Whoever writes an export to a file descriptor (the engine, through the bindings). */
fun interface ExportSource {
    /** Writes [kind] to [fd], which stays the caller's to close; returns the rows written. */
    fun write(kind: ExportKind, fd: Int): Long
}

/** An open destination: a file descriptor and how to close it. */
interface ExportTarget : AutoCloseable {
    val fd: Int
}

/** Writes an export to a target and always closes it, also when writing fails. */
class ExportWriter(private val source: ExportSource) {
    fun write(kind: ExportKind, open: () -> ExportTarget): Long = open().use { target -> source.write(kind, target.fd) }
}

/** Old share-sheet copies are deleted so the cache does not grow: the newest [keep] stay. */
fun <F> pruneOldest(files: List<F>, keep: Int, modified: (F) -> Long, delete: (F) -> Unit) {
    files.sortedByDescending(modified).drop(keep).forEach(delete)
}
