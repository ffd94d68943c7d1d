package org.phonehome.lists

import java.io.File
import java.io.IOException
import java.net.HttpURLConnection
import java.net.MalformedURLException
import java.net.URI
import java.net.URISyntaxException
import java.net.URL
import org.phonehome.core.maxListBytes

/** What asking a list's source gave. */
sealed interface Fetch {
    /** A new version, in [file] (the caller's temporary file), with its validators for the next request. */
    data class Fetched(val file: File, val etag: String?, val lastModified: String?) : Fetch
    /** The source answered 304: the list has not changed since the validators sent. */
    data object NotModified : Fetch
    data class Failed(val reason: String) : Fetch
}

/** Asks a list's source, the only requests the app makes of its own (and only for lists the user added by URL). */
fun interface ListSource {
    fun fetch(url: String, etag: String?, lastModified: String?, into: File): Fetch
}

/**
 * Downloads lists with a conditional GET (`If-None-Match`, `If-Modified-Since`), at most [maxBytes], over
 * the [schemes] allowed (https only in the app; tests add http for a server on 127.0.0.1).
 */
class ListDownloader(
    private val schemes: Set<String> = setOf("https"),
    private val maxBytes: Long = MAX_LIST_BYTES,
    private val timeoutMillis: Int = 30_000,
) : ListSource {
    override fun fetch(url: String, etag: String?, lastModified: String?, into: File): Fetch {
        val target = parse(url) ?: return Fetch.Failed("not an ${schemes.joinToString("/")} URL: $url")
        return try {
            val connection = target.openConnection() as HttpURLConnection
            try {
                download(connection, etag, lastModified, into)
            } finally {
                connection.disconnect()
            }
        } catch (e: IOException) {
            Fetch.Failed(e.message ?: e.javaClass.simpleName)
        }
    }

    /** [url] when it is absolute, with an allowed scheme and a host. */
    fun parse(url: String): URL? = try {
        URI(url.trim()).takeIf { it.scheme?.lowercase() in schemes && !it.host.isNullOrEmpty() }?.toURL()
    } catch (_: URISyntaxException) {
        null
    } catch (_: MalformedURLException) {
        null
    } catch (_: IllegalArgumentException) {
        null
    }

    private fun download(connection: HttpURLConnection, etag: String?, lastModified: String?, into: File): Fetch {
        connection.connectTimeout = timeoutMillis
        connection.readTimeout = timeoutMillis
        connection.instanceFollowRedirects = true
        connection.setRequestProperty("User-Agent", "phonehome")
        etag?.let { connection.setRequestProperty("If-None-Match", it) }
        lastModified?.let { connection.setRequestProperty("If-Modified-Since", it) }
        val code = connection.responseCode
        // Redirects are followed within a scheme; an allowed one must also be where they end.
        if (connection.url.protocol.lowercase() !in schemes) return Fetch.Failed("redirected to ${connection.url.protocol}")
        return when (code) {
            HttpURLConnection.HTTP_NOT_MODIFIED -> Fetch.NotModified
            HttpURLConnection.HTTP_OK -> {
                if (connection.contentLengthLong > maxBytes) return tooLarge()
                val copied = connection.inputStream.use { input -> copyAtMost(input, into, maxBytes) }
                if (copied == null) tooLarge()
                else Fetch.Fetched(into, connection.getHeaderField("ETag"), connection.getHeaderField("Last-Modified"))
            }
            else -> Fetch.Failed("HTTP $code ${connection.responseMessage.orEmpty()}".trim())
        }
    }

    private fun tooLarge() = Fetch.Failed("larger than ${maxBytes / (1024 * 1024)} MiB")
}

/** The engine's limit on a list file: larger downloads stop early. */
val MAX_LIST_BYTES: Long by lazy { maxListBytes().toLong() }

/** Copies [input] into [into]; returns the bytes copied, or null (and [into] emptied) past [maxBytes]. */
fun copyAtMost(input: java.io.InputStream, into: File, maxBytes: Long): Long? {
    var total = 0L
    val buffer = ByteArray(64 * 1024)
    into.outputStream().use { out ->
        while (true) {
            val n = input.read(buffer)
            if (n < 0) break
            total += n
            if (total > maxBytes) break
            out.write(buffer, 0, n)
        }
    }
    if (total <= maxBytes) return total
    into.writeBytes(ByteArray(0))
    return null
}
