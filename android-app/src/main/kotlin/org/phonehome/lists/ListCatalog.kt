package org.phonehome.lists

import org.phonehome.core.ListFile
import org.phonehome.core.ListKind
import java.io.File
import java.io.IOException
import java.util.Properties
import java.util.UUID

/** One imported list: where it came from, whether it is used and updated, and what its last check found. */
data class ListEntry(
    val id: String,
    val name: String,
    val kind: ListKind,
    /** The https source; null for a list imported from a file. */
    val url: String? = null,
    /** Opted in to periodic updates (only lists with a [url]). */
    val autoUpdate: Boolean = false,
    val enabled: Boolean = true,
    val domains: Long = 0,
    val networks: Long = 0,
    /** When the file last changed (epoch ms). */
    val updatedAt: Long? = null,
    /** When the source was last asked (epoch ms), successfully or not. */
    val checkedAt: Long? = null,
    val etag: String? = null,
    val lastModified: String? = null,
    /** Why the last update failed; null after a success. */
    val error: String? = null,
) {
    val updatable get() = url != null

    /** This entry with the content fields (counts, validators, times, error) of [other]. */
    fun withContentOf(other: ListEntry) = copy(
        domains = other.domains, networks = other.networks, updatedAt = other.updatedAt, checkedAt = other.checkedAt,
        etag = other.etag, lastModified = other.lastModified, error = other.error,
    )
}

/**
 * The lists in app-private storage: one file per list (`ID.list`) and `catalog.properties` describing them
 * (`java.util.Properties`: the JDK's own escaping, and no Android class, so the JVM tests run it as is). Every
 * write goes to a temporary file first, then replaces the old one with a rename, so a crash or a full disk
 * leaves the previous state whole.
 */
class ListCatalog(val dir: File) {
    private val catalogFile = File(dir, "catalog.properties")

    fun entries(): List<ListEntry> {
        val saved = Properties()
        try {
            synchronized(LOCK) { catalogFile.inputStream().use(saved::load) }
        } catch (_: IOException) {
            return emptyList() // none yet
        } catch (_: IllegalArgumentException) {
            return emptyList() // a damaged catalog shows no lists rather than stopping the app; the files stay
        }
        return saved.getProperty(IDS).orEmpty().split(',').filter(::isSafeId).mapNotNull { entryOf(saved, it) }
    }

    fun entry(id: String): ListEntry? = entries().firstOrNull { it.id == id }

    /** The file of [entry]'s content. */
    fun fileOf(entry: ListEntry) = File(dir, "${entry.id}.list")

    /** A fresh temporary file in the catalog's folder (same file system, so a rename replaces atomically). */
    fun tempFile(): File {
        dir.mkdirs()
        return File.createTempFile("incoming", ".tmp", dir)
    }

    /** A new entry's id. */
    fun newId(): String = UUID.randomUUID().toString()

    /**
     * Makes [candidate] (a validated temporary file) the content of list [entry]: a new list is saved whole; a
     * saved one takes [entry]'s content fields only, so that choices made meanwhile (enabled, updates) stay.
     * Returns false, installing nothing, when an existing list was removed meanwhile.
     */
    fun install(entry: ListEntry, candidate: File, new: Boolean): Boolean = synchronized(LOCK) {
        val saved = entry(entry.id)
        if (saved == null && !new) {
            false
        } else {
            replace(candidate, fileOf(entry))
            put(saved?.withContentOf(entry) ?: entry)
            true
        }
    }

    /** Saves [entry], replacing the one with its id or adding it at the end. */
    fun put(entry: ListEntry) = synchronized(LOCK) {
        val current = entries()
        save(if (current.any { it.id == entry.id }) current.map { if (it.id == entry.id) entry else it } else current + entry)
    }

    /** Changes the saved entry [id] with [change]; returns the result, or null when there is no such entry. */
    fun update(id: String, change: (ListEntry) -> ListEntry): ListEntry? = synchronized(LOCK) {
        entry(id)?.let(change)?.also(::put)
    }

    fun remove(id: String) {
        synchronized(LOCK) {
            val entry = entry(id) ?: return
            save(entries().filter { it.id != id })
            fileOf(entry).delete()
        }
    }

    /** The enabled lists whose files exist, for the engine's configuration. */
    fun engineLists(): List<ListFile> = entries().filter { it.enabled }
        .map { it to fileOf(it) }
        .filter { (_, file) -> file.isFile }
        .map { (entry, file) -> ListFile(name = entry.name, kind = entry.kind, path = file.path) }

    private fun save(entries: List<ListEntry>) {
        val saved = Properties()
        saved.setProperty(IDS, entries.joinToString(",") { it.id })
        for (entry in entries) {
            fieldsOf(entry).forEach { (key, value) -> if (value != null) saved.setProperty("${entry.id}.$key", value.toString()) }
        }
        val temp = tempFile()
        try {
            temp.outputStream().use { saved.store(it, "phonehome lists") }
            replace(temp, catalogFile)
        } finally {
            temp.delete()
        }
    }

    /** rename(2) within one folder replaces atomically (java.nio.file needs API 26; minSdk is 24). */
    private fun replace(source: File, target: File) {
        if (!source.renameTo(target)) throw IOException("cannot replace ${target.name}")
    }

    private fun fieldsOf(entry: ListEntry): List<Pair<String, Any?>> = listOf(
        "name" to entry.name, "kind" to entry.kind.name, "url" to entry.url, "autoUpdate" to entry.autoUpdate,
        "enabled" to entry.enabled, "domains" to entry.domains, "networks" to entry.networks,
        "updatedAt" to entry.updatedAt, "checkedAt" to entry.checkedAt, "etag" to entry.etag,
        "lastModified" to entry.lastModified, "error" to entry.error,
    )

    private fun entryOf(saved: Properties, id: String): ListEntry? {
        fun text(key: String): String? = saved.getProperty("$id.$key")
        return ListEntry(
            id = id,
            name = text("name") ?: return null,
            kind = ListKind.entries.firstOrNull { it.name == text("kind") } ?: return null,
            url = text("url"),
            autoUpdate = text("autoUpdate").toBoolean(),
            enabled = text("enabled")?.toBooleanStrictOrNull() ?: true,
            domains = text("domains")?.toLongOrNull() ?: 0,
            networks = text("networks")?.toLongOrNull() ?: 0,
            updatedAt = text("updatedAt")?.toLongOrNull(),
            checkedAt = text("checkedAt")?.toLongOrNull(),
            etag = text("etag"),
            lastModified = text("lastModified"),
            error = text("error"),
        )
    }

    private companion object {
        const val IDS = "ids"

        /** One lock for every catalog object of the process: the screen and the update job each make one. */
        val LOCK = Any()

        /** An id names a file in [dir]: ASCII letters, digits and dashes only. */
        fun isSafeId(id: String) = id.isNotEmpty() && id.all { it in 'a'..'z' || it in 'A'..'Z' || it in '0'..'9' || it == '-' }
    }
}
