package org.phonehome.settings

import org.junit.Assert.assertEquals
import org.junit.Assert.assertNull
import org.junit.Test

class WatchlistsTest {
    @Test
    fun `identifiers become TOML lists, blanks dropped, keys sorted`() {
        val toml = Watchlists.identifiersToml(
            mapOf("imei" to listOf("356938035643809 ", "", "490154203237518"), "serial" to listOf(" "), "android_id" to listOf("9774d56d682e549c")),
        )
        assertEquals("\"android_id\" = [\"9774d56d682e549c\"]\n\"imei\" = [\"356938035643809\", \"490154203237518\"]\n", toml)
        assertNull(Watchlists.identifiersToml(mapOf("imei" to listOf(""))))
    }

    @Test
    fun `quotes, backslashes and control characters are escaped`() {
        assertEquals("\"a\\\"b\\\\c\\u000ad\"", Watchlists.quote("a\"b\\c\nd"))
    }

    @Test
    fun `countries are normalised and anything else is refused`() {
        assertEquals(listOf("CN", "IR", "RU"), Watchlists.parseCountries("ru, cn;IR cn"))
        assertEquals(emptyList<String>(), Watchlists.parseCountries(" "))
        assertNull(Watchlists.parseCountries("CHN"))
        assertNull(Watchlists.parseCountries("C1"))
    }
}
