package org.phonehome.history

import org.phonehome.store.Cursor
import org.phonehome.core.PageRequest

/**
 * A newest-first list read page by page: asks for one page at a time, continues from the last item's
 * cursor, and stops at [maxItems] so a long history never fills the memory.
 */
class Pager<T>(
    private val appKey: String?,
    private val pageSize: Int,
    private val maxItems: Int,
    private val cursorOf: (T) -> Cursor,
) {
    /** Everything read so far, newest first. */
    var items: List<T> = emptyList()
        private set

    /** Whether older items may remain (and the cap is not reached). */
    var hasMore = true
        private set

    private var pending: Int? = null

    /** The request for the next page; null when the list is complete or a page is already on its way. */
    fun next(): PageRequest? {
        if (!hasMore || pending != null) return null
        val size = minOf(pageSize, maxItems - items.size)
        pending = size
        return PageRequest(appKey, items.lastOrNull()?.let(cursorOf), size.toUInt())
    }

    /** Takes the page answering [next]. */
    fun add(page: List<T>) {
        val asked = pending ?: return
        pending = null
        items = items + page
        hasMore = page.size >= asked && items.size < maxItems
    }

    /** The page asked for did not come: the same request may be made again. */
    fun failed() {
        pending = null
    }
}
