package org.phonehome.lists

import com.sun.net.httpserver.HttpExchange
import com.sun.net.httpserver.HttpServer
import org.junit.After
import org.junit.Assert.assertEquals
import org.junit.Assert.assertNull
import org.junit.Assert.assertTrue
import org.junit.Rule
import org.junit.Test
import org.junit.rules.TemporaryFolder
import java.net.InetAddress
import java.net.InetSocketAddress
import java.util.Collections

/** The downloader against a real HTTP server on 127.0.0.1 (http allowed only here, by the injected policy). */
class ListDownloaderTest {
    @get:Rule
    val folder = TemporaryFolder()

    private val requests: MutableList<Map<String, String?>> = Collections.synchronizedList(mutableListOf())
    private val server = HttpServer.create(InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0).apply {
        createContext("/list.txt") { exchange ->
            record(exchange)
            val headers = exchange.requestHeaders
            if (headers.getFirst("If-None-Match") == ETAG) {
                exchange.sendResponseHeaders(304, -1)
            } else {
                exchange.responseHeaders.add("ETag", ETAG)
                exchange.responseHeaders.add("Last-Modified", MODIFIED)
                reply(exchange, 200, BODY)
            }
            exchange.close()
        }
        createContext("/big") { exchange -> record(exchange); reply(exchange, 200, "a.example\n".repeat(500)); exchange.close() }
        createContext("/chunked") { exchange ->
            record(exchange)
            exchange.sendResponseHeaders(200, 0) // chunked: no length announced, the cap must stop the copy
            exchange.responseBody.use { out -> repeat(500) { out.write("a.example\n".toByteArray()) } }
            exchange.close()
        }
        createContext("/missing") { exchange -> record(exchange); reply(exchange, 404, "no"); exchange.close() }
        start()
    }
    private val base = "http://127.0.0.1:${server.address.port}"
    private val downloader = ListDownloader(schemes = setOf("http"), maxBytes = 1024)

    private fun record(exchange: HttpExchange) {
        val headers = exchange.requestHeaders
        requests += mapOf("path" to exchange.requestURI.path, "etag" to headers.getFirst("If-None-Match"),
            "since" to headers.getFirst("If-Modified-Since"))
    }

    private fun reply(exchange: HttpExchange, code: Int, body: String) {
        val bytes = body.toByteArray()
        exchange.sendResponseHeaders(code, bytes.size.toLong())
        exchange.responseBody.use { it.write(bytes) }
    }

    @After
    fun stop() {
        runCatching { server.stop(0) } // some tests stop it early
    }

    @Test
    fun `a download keeps the body and the validators, and a conditional request gets 304`() {
        val into = folder.newFile()
        assertEquals(Fetch.Fetched(into, ETAG, MODIFIED), downloader.fetch("$base/list.txt", null, null, into))
        assertEquals(BODY, into.readText())
        assertEquals(mapOf("path" to "/list.txt", "etag" to null, "since" to null), requests.single())
        assertEquals(Fetch.NotModified, downloader.fetch("$base/list.txt", ETAG, MODIFIED, folder.newFile()))
        assertEquals(mapOf("path" to "/list.txt", "etag" to ETAG, "since" to MODIFIED), requests.last())
    }

    @Test
    fun `bodies past the cap fail, announced or not, and leave nothing behind`() {
        for (path in listOf("/big", "/chunked")) {
            val into = folder.newFile()
            val fetch = downloader.fetch("$base$path", null, null, into)
            assertTrue("$path: $fetch", fetch is Fetch.Failed && fetch.reason.startsWith("larger than"))
            assertEquals(0L, into.length())
        }
    }

    @Test
    fun `error statuses and unreachable servers fail with a reason`() {
        assertEquals(Fetch.Failed("HTTP 404 Not Found"), downloader.fetch("$base/missing", null, null, folder.newFile()))
        server.stop(0)
        val fetch = downloader.fetch("$base/list.txt", null, null, folder.newFile())
        assertTrue("$fetch", fetch is Fetch.Failed)
    }

    @Test
    fun `the app's policy allows https only and sends nothing otherwise`() {
        val app = ListDownloader(maxBytes = 1024)
        for (url in listOf("$base/list.txt", "ftp://127.0.0.1/x", "file:///etc/passwd", "https:///no-host", "not a url", "")) {
            val fetch = app.fetch(url, null, null, folder.newFile())
            assertTrue("$url: $fetch", fetch is Fetch.Failed && fetch.reason.startsWith("not an https URL"))
        }
        assertTrue("no request reached the server", requests.isEmpty())
        assertEquals("https", app.parse(" https://lists.example/a.txt ")?.protocol)
        assertNull(app.parse("HTTP://lists.example/a.txt"))
    }

    private companion object {
        const val ETAG = "\"abc123\""
        const val MODIFIED = "Sat, 21 Nov 2026 10:00:00 GMT"
        const val BODY = "0.0.0.0 ads.example\n"
    }
}
