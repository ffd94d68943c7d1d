package org.phonehome.history

import org.junit.Assert.assertEquals
import org.junit.Assert.assertFalse
import org.junit.Assert.assertNull
import org.junit.Assert.assertTrue
import org.junit.Test
import org.phonehome.store.Cursor
import org.phonehome.core.PageRequest

class PagerTest {
    /** Items newest first, as the history returns them: time descending, id breaking ties. */
    private val history = listOf(Cursor(9, 9), Cursor(9, 8), Cursor(7, 5), Cursor(5, 4),
        Cursor(5, 3), Cursor(2, 2), Cursor(1, 1))

    /** What HistoryReader.flows answers: items strictly older than the cursor, at most `limit`. */
    private fun answer(request: PageRequest): List<Cursor> = history.filter { item ->
        val before = request.before ?: return@filter true
        item.tsUs < before.tsUs || (item.tsUs == before.tsUs && item.id < before.id)
    }.take(request.limit.toInt())

    private fun pager(pageSize: Int, maxItems: Int) = Pager<Cursor>("uid:1", pageSize, maxItems) { it }

    @Test
    fun `pages follow each other without gaps or repeats until the history ends`() {
        val pager = pager(pageSize = 3, maxItems = 100)
        val requests = mutableListOf<PageRequest>()
        while (true) {
            val request = pager.next() ?: break
            requests += request
            pager.add(answer(request))
        }
        assertEquals(history, pager.items)
        assertFalse(pager.hasMore)
        assertEquals(listOf(null, Cursor(7, 5), Cursor(2, 2)), requests.map { it.before })
        assertTrue(requests.all { it.appKey == "uid:1" && it.limit == 3u })
    }

    @Test
    fun `reading stops at the cap`() {
        val pager = pager(pageSize = 3, maxItems = 4)
        pager.add(answer(pager.next()!!))
        val last = pager.next()!!
        assertEquals(1u, last.limit)
        pager.add(answer(last))
        assertEquals(history.take(4), pager.items)
        assertFalse(pager.hasMore)
        assertNull(pager.next())
    }

    @Test
    fun `one page at a time, and a failed page may be asked again`() {
        val pager = pager(pageSize = 2, maxItems = 100)
        val first = pager.next()!!
        assertNull("a second tap while loading asks nothing", pager.next())
        pager.failed()
        assertEquals(first, pager.next())
        pager.add(answer(first))
        pager.add(answer(first)) // a late duplicate answer is ignored
        assertEquals(history.take(2), pager.items)
    }
}
