package org.phonehome.settings

import org.junit.Assert.assertEquals
import org.junit.Test

class BlockListTest {
    @Test
    fun `saved rules are sorted by kind`() {
        val rules = setOf("uid:10123", "domain:tracker.example", "country:cn", "ip:192.0.2.7", "ip:2001:db8::1", "uid:10124")
        assertEquals(
            BlockList(
                apps = listOf(10123u, 10124u),
                domains = listOf("tracker.example"),
                countries = listOf("CN"),
                networks = listOf("192.0.2.7", "2001:db8::1"),
            ),
            BlockList.parse(rules),
        )
    }

    @Test
    fun `malformed and unknown rules are skipped`() {
        assertEquals(BlockList(), BlockList.parse(setOf("uid:abc", "uid:-1", "country:CHN", "domain:", "port:80", "nonsense", "")))
    }
}
