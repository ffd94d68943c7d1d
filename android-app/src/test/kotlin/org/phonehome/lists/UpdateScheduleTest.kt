package org.phonehome.lists

import org.junit.Assert.assertEquals
import org.junit.Assert.assertFalse
import org.junit.Assert.assertNull
import org.junit.Assert.assertTrue
import org.junit.Test
import org.phonehome.core.ListKind

class UpdateScheduleTest {
    private val day = 86_400_000L
    private val optedIn = ListEntry(id = "a", name = "a", kind = ListKind.TRACKER, url = "https://l.example/a", autoUpdate = true)

    @Test
    fun `only opted-in lists with a source are due, once their interval has about passed`() {
        val now = 100 * day
        assertTrue("never asked", ListUpdater.isDue(optedIn, now, day))
        assertFalse("opted out", ListUpdater.isDue(optedIn.copy(autoUpdate = false), now, day))
        assertFalse("imported from a file", ListUpdater.isDue(optedIn.copy(url = null), now, day))
        assertFalse("asked an hour ago", ListUpdater.isDue(optedIn.copy(checkedAt = now - day / 24), now, day))
        assertTrue("a job a little early", ListUpdater.isDue(optedIn.copy(checkedAt = now - day + day / 24), now, day))
        assertTrue("asked a week ago", ListUpdater.isDue(optedIn.copy(checkedAt = now - 7 * day), now, day))
        assertTrue("the clock went back", ListUpdater.isDue(optedIn.copy(checkedAt = now + day), now, day))
    }

    @Test
    fun `no job unless a list is opted in, then daily or as chosen on the chosen networks`() {
        assertNull(UpdateSchedule.of(emptyList(), 1, anyNetwork = true))
        assertNull(UpdateSchedule.of(listOf(optedIn.copy(autoUpdate = false), optedIn.copy(url = null)), 1, anyNetwork = false))
        assertEquals(UpdateSchedule(day, anyNetwork = false), UpdateSchedule.of(listOf(optedIn), 1, anyNetwork = false))
        assertEquals(UpdateSchedule(7 * day, anyNetwork = true), UpdateSchedule.of(listOf(optedIn), 7, anyNetwork = true))
        assertEquals(day, UpdateSchedule.of(listOf(optedIn), 0, anyNetwork = true)?.intervalMillis)
    }
}
