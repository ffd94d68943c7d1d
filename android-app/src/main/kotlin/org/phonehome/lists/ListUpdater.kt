package org.phonehome.lists

import org.phonehome.core.ListFileException
import org.phonehome.core.ListKind
import org.phonehome.core.ListSummary
import org.phonehome.core.inspectList
import java.io.File
import java.io.InputStream

/** Checks a candidate list file; throws [ListFileException] with the reason when it cannot be used. */
fun interface ListValidator {
    fun inspect(file: File, kind: ListKind): ListSummary

    companion object {
        /** The engine's own import, so that what is accepted here is what the engine loads. */
        val ENGINE = ListValidator { file, kind -> inspectList(file.path, kind) }
    }
}

/** What adding or updating a list did. */
sealed interface Outcome {
    data class Updated(val entry: ListEntry) : Outcome
    data object Unchanged : Outcome
    data class Failed(val reason: String) : Outcome
}

/**
 * Adds, imports and updates lists: every new version is validated before it replaces the old file, and a
 * failed or invalid download keeps the old list and records why on its entry.
 */
class ListUpdater(
    private val catalog: ListCatalog,
    private val source: ListSource,
    private val validator: ListValidator = ListValidator.ENGINE,
    private val clock: () -> Long = System::currentTimeMillis,
) {
    /** Imports [input] (a file the user picked) as a new list; nothing is kept when it is not a valid list. */
    fun import(input: InputStream, name: String, kind: ListKind): Outcome {
        val temp = catalog.tempFile()
        try {
            if (copyAtMost(input, temp, MAX_LIST_BYTES) == null) return Outcome.Failed("larger than the limit")
            return accept(ListEntry(id = catalog.newId(), name = name, kind = kind), temp, save = false)
        } finally {
            temp.delete()
        }
    }

    /** Downloads [url] as a new list (the user asked: this is not an automatic request). */
    fun add(url: String, name: String, kind: ListKind, autoUpdate: Boolean): Outcome {
        val entry = ListEntry(id = catalog.newId(), name = name, kind = kind, url = url.trim(), autoUpdate = autoUpdate)
        return download(entry, save = false)
    }

    /** Asks the source of list [id] now, whatever its schedule. */
    fun refresh(id: String): Outcome {
        val entry = catalog.entry(id) ?: return Outcome.Failed("no such list")
        return download(entry, save = true)
    }

    /** Updates every list that is due; returns whether any list's content changed (the engine must reload). */
    fun updateDue(intervalMillis: Long): Boolean {
        val now = clock()
        return catalog.entries().filter { isDue(it, now, intervalMillis) }
            .map { download(it, save = true) }
            .any { it is Outcome.Updated }
    }

    /** Asks [entry]'s source (conditionally, with the validators of the version held); [save]s failures too. */
    private fun download(entry: ListEntry, save: Boolean): Outcome {
        val url = entry.url ?: return Outcome.Failed("the list has no source URL")
        val temp = catalog.tempFile()
        try {
            val held = catalog.fileOf(entry).isFile
            val fetch = source.fetch(url, entry.etag.takeIf { held }, entry.lastModified.takeIf { held }, temp)
            val checked = entry.copy(checkedAt = clock())
            return when (fetch) {
                is Fetch.NotModified -> {
                    if (save) catalog.update(entry.id) { it.copy(checkedAt = checked.checkedAt, error = null) }
                    Outcome.Unchanged
                }
                is Fetch.Failed -> fail(checked, fetch.reason, save)
                is Fetch.Fetched -> accept(checked.copy(etag = fetch.etag, lastModified = fetch.lastModified), temp, save)
            }
        } finally {
            temp.delete()
        }
    }

    /** Validates [candidate] and installs it as [entry]'s content, or keeps the old one ([save]s the reason). */
    private fun accept(entry: ListEntry, candidate: File, save: Boolean): Outcome {
        val summary = try {
            validator.inspect(candidate, entry.kind)
        } catch (e: ListFileException) {
            return fail(entry, e.message ?: "invalid list", save)
        }
        val installed = entry.copy(
            domains = summary.domains.toLong(),
            networks = summary.networks.toLong(),
            updatedAt = clock(),
            error = null,
        )
        if (!catalog.install(installed, candidate, new = !save)) return Outcome.Failed("the list was removed")
        return Outcome.Updated(installed)
    }

    /** A failure keeps the list held; with [save] it is recorded on the saved entry (its validators unchanged). */
    private fun fail(entry: ListEntry, reason: String, save: Boolean): Outcome {
        if (save) catalog.update(entry.id) { it.copy(checkedAt = entry.checkedAt, error = reason) }
        return Outcome.Failed(reason)
    }

    companion object {
        /** Jobs may run a little early: a list is due once this share of its interval has passed. */
        private const val DUE_SHARE = 0.9

        /** Whether [entry] should be asked now: opted in, with a source, and not asked within the interval. */
        fun isDue(entry: ListEntry, now: Long, intervalMillis: Long): Boolean {
            if (!entry.updatable || !entry.autoUpdate) return false
            val last = entry.checkedAt ?: return true
            return now - last >= (intervalMillis * DUE_SHARE).toLong() || now < last
        }
    }
}
