package org.phonehome.host

import org.junit.After
import org.junit.Assert.assertEquals
import org.junit.Assert.assertThrows
import org.junit.Assert.assertTrue
import org.junit.Assume.assumeTrue
import org.junit.Before
import org.junit.Test
import org.phonehome.apps.PackageFacts
import org.phonehome.apps.PackageLookup
import org.phonehome.apps.UidNamer
import org.phonehome.model.AlertRecord
import org.phonehome.core.Connection
import org.phonehome.core.Monitor
import org.phonehome.core.MonitorConfig
import org.phonehome.core.MonitorException
import org.phonehome.model.FlowRecord
import org.phonehome.core.HistoryReader
import org.phonehome.core.PageRequest
import org.phonehome.core.OwnerSource
import org.phonehome.model.Severity
import org.phonehome.model.AlertKind
import org.phonehome.model.L7
import org.phonehome.model.Proto
import org.phonehome.vpn.MonitorBridge
import org.phonehome.vpn.VpnConfigurator
import org.phonehome.vpn.VpnPlan
import java.io.File
import java.net.DatagramPacket
import java.net.DatagramSocket
import java.net.InetAddress
import java.net.InetSocketAddress
import java.net.ServerSocket
import java.util.concurrent.CopyOnWriteArrayList
import kotlin.concurrent.thread

/**
 * The engine through the generated bindings, started exactly as the VpnService starts it: the app's
 * VpnConfigurator on a real TUN in a "phone" namespace, the fd handed to Engine.start, sockets protected by
 * a callback (SO_MARK here, VpnService.protect on the phone) into an "internet" namespace where a DNS and
 * an HTTP server listen. Needs root; skipped without it, failing instead under CI=true.
 */
class LiveMonitorTest {
    private val id = ProcessHandle.current().pid()
    private val phone = "phjvm-p-$id"
    private val internet = "phjvm-i-$id"
    private val alerts = CopyOnWriteArrayList<AlertRecord>()
    private val asked = CopyOnWriteArrayList<Connection>()
    private var engine: Monitor? = null
    private val historyDir = kotlin.io.path.createTempDirectory("phonehome-history").toFile()

    @Before
    fun topology() {
        val root = LibC.C.geteuid() == 0
        check(root || System.getenv("CI") != "true") { "the live engine test needs root under CI" }
        if (!root) System.err.println("skipped: the live engine test needs root (network namespaces, TUN)")
        assumeTrue(root)
        ip("netns", "add", phone)
        ip("netns", "add", internet)
        for (ns in listOf(phone, internet)) ip("-n", ns, "link", "set", "lo", "up")
        ip("-n", phone, "link", "add", "vp", "type", "veth", "peer", "name", "vi", "netns", internet)
        // No prefix route on the phone side: only protected (marked) sockets may use the veth.
        ip("-n", phone, "addr", "add", "10.200.1.1/32", "dev", "vp")
        ip("-n", internet, "addr", "add", "10.200.1.2/24", "dev", "vi")
        ip("-n", phone, "link", "set", "vp", "up")
        ip("-n", internet, "link", "set", "vi", "up")
        ip("-n", phone, "route", "add", "10.200.1.2/32", "dev", "vp", "table", "100")
        ip("-n", phone, "route", "add", "default", "via", "10.200.1.2", "dev", "vp", "table", "100")
        ip("-n", phone, "rule", "add", "fwmark", "$MARK", "lookup", "100", "priority", "100")
        // Replies reach the veth for an address the main table routes to the tun: no reverse-path filter.
        for (key in listOf("all", "default", "vp")) ip("netns", "exec", phone, "sysctl", "-qw", "net.ipv4.conf.$key.rp_filter=0")
    }

    @After
    fun cleanUp() {
        runCatching { engine?.takeIf { it.isRunning() }?.stop() }
        engine?.destroy()
        for (ns in listOf(phone, internet)) runCatching { ip("netns", "del", ns) }
        historyDir.deleteRecursively()
    }

    @Test
    fun `flows, alerts and exports come back through the bindings`() {
        serveInInternet()
        val plan = VpnPlan(mtu = 9000)
        val tun = LinuxTunBuilder(phone)
        val namer = UidNamer(object : PackageLookup {
            override fun packagesForUid(uid: Int) = if (uid == APP_UID) listOf(APP_PACKAGE) else emptyList()
            override fun facts(packageName: String) = PackageFacts(packageName, "AutoRegistration", system = true)
        })
        val bridge = MonitorBridge(
            protectSocket = { fd -> LibC.C.setsockopt(fd, LibC.SOL_SOCKET, LibC.SO_MARK, intArrayOf(MARK), 4) == 0 },
            ownerOf = { connection -> asked += connection; APP_UID },
            namer = namer,
            onAlertRaised = { alerts += it },
        )
        val config = MonitorConfig(
            mtu = plan.mtu.toUInt(),
            virtualDns = plan.virtualDns,
            upstreamDns = SERVER,
            ownerSource = OwnerSource.PLATFORM,
            identifiersToml = "imei = \"$IMEI\"\n",
            watchedCountries = listOf("CN"),
            alertNewDestinations = false,
            flowIdleSeconds = 1u,
            historyPath = File(historyDir, "history.sqlite").path,
            keepPackets = false,
            blockApps = emptyList(),
            blockDomains = emptyList(),
            blockCountries = emptyList(),
            blockNetworks = emptyList(),
        )
        engine = inNamespace(phone) {
            val fd = VpnConfigurator(plan).establish(tun, "org.phonehome", sdkInt = 36)!!
            Monitor.start(config, fd, bridge, bridge, bridge)
        }
        val engine = engine!!
        assertEquals(listOf(plan.virtualDns), tun.dnsServers)
        assertEquals(listOf("org.phonehome"), tun.excluded)

        // DNS to the virtual resolver, then cleartext HTTP that leaks the IMEI, both from the phone.
        val answer = inNamespace(phone) { dnsQuery(plan.virtualDns, HOST) }
        assertTrue("DNS answer names $SERVER", answer.contains(InetAddress.getByName(SERVER)))
        val response = curlInPhone("http://$SERVER:$HTTP_PORT/reg?imei=$IMEI&model=test", HOST)
        assertEquals("registered", response)

        val deadline = System.nanoTime() + 30_000_000_000L
        // The live view, polled as a screen does: the flows end (idle 1 s) and show among the latest finished.
        fun finished() = engine.liveView().finished
        fun http() = finished().firstOrNull { it.l7 == L7.HTTP }
        fun dns() = finished().firstOrNull { it.l7 == L7.DNS }
        while ((http() == null || dns() == null) && System.nanoTime() < deadline) Thread.sleep(200)

        val web = http() ?: error("no HTTP flow in ${engine.liveView()}")
        assertEquals(listOf(Proto.TCP, SERVER, HTTP_PORT.toUShort(), HOST), listOf(web.proto, web.dstIp, web.dstPort, web.host))
        assertEquals(APP_UID.toUInt(), web.uid)
        assertEquals("AutoRegistration", web.app)
        assertTrue(web.httpPath!!.startsWith("/reg"))
        assertTrue(web.bytesOut > 0u && web.bytesIn > 0u)
        val lookup = dns() ?: error("no DNS flow")
        assertEquals(listOf(Proto.UDP, plan.virtualDns, HOST), listOf(lookup.proto, lookup.dstIp, lookup.host))
        assertTrue("owner asked for the HTTP connection: $asked", asked.any {
            it.proto == Proto.TCP && it.remoteIp == SERVER && it.remotePort == HTTP_PORT.toUShort()
        })

        while (alerts.none { it.kind == AlertKind.IDENTIFIER_LEAK } && System.nanoTime() < deadline) Thread.sleep(200)
        val leak = alerts.firstOrNull { it.kind == AlertKind.IDENTIFIER_LEAK } ?: error("the listener saw no leak: $alerts")
        assertEquals(Severity.HIGH, leak.severity)
        assertEquals(APP_UID.toUInt(), leak.uid)

        // The views' reader, opened while the monitor writes (WAL): the HTTP flow arrives within a commit interval.
        val history = HistoryReader.open(config.historyPath!!)
        val appKey = "uid:$APP_UID"
        fun stored() = history.flows(PageRequest(appKey, null, 100u)).firstOrNull { it.record.l7 == L7.HTTP }
        while (stored() == null && System.nanoTime() < deadline) Thread.sleep(200)
        assertEquals(web, stored()?.record ?: error("the running monitor's history has no HTTP flow"))

        val csv = export { fd -> history.exportFlowsCsv(fd) }
        val lines = csv.split("\r\n").filter(String::isNotEmpty)
        assertTrue(lines.first(), lines.first().startsWith("first_seen,last_seen,proto,src_ip,src_port,dst_ip,dst_port,uid,app,l7,host"))
        assertTrue(csv, lines.any { it.contains(",$APP_UID,AutoRegistration,HTTP,$HOST,") })
        val jsonl = export { fd -> history.exportAlertsJsonl(fd) }
        assertTrue(jsonl, jsonl.lines().any { it.contains("\"kind\":\"identifier_leak\"") && !it.contains(IMEI) })
        val html = export { fd -> history.exportReportHtml(fd); 1uL } // the page has no row count
        assertTrue(html, html.startsWith("<!DOCTYPE html>") && html.contains("AutoRegistration"))

        // A block set from a flow's screen reaches the running engine: the next connection is refused at once
        // (curl exit 7, the engine's RST), without a restart; a saved rule that cannot work is left out alone.
        engine.setBlockRules(emptyList(), emptyList(), emptyList(), listOf("not a network", "$SERVER/32"))
        val (code, output) = curl("http://$SERVER:$HTTP_PORT/again", HOST)
        assertEquals("curl: $output", 7, code)
        assertTrue("${engine.stats()}", engine.stats().flowsBlocked >= 1u)

        val stats = engine.stop()
        assertTrue("$stats", stats.packetsIn > 0u && stats.flowsFinished >= 2u && stats.alerts >= 1u)
        assertThrows(MonitorException.Stopped::class.java) { engine.stop() }
        assertTrue("the last live view outlives the stop", engine.liveView().finished.any { it.l7 == L7.HTTP })
        assertHistory(history, appKey, web, leak)
        history.close()
        // After the run, as the app reads it with the VPN off: a reader of its own on the same file.
        HistoryReader.open(config.historyPath!!).use { assertHistory(it, appKey, web, leak) }
    }

    /** The history holds the app (most severe first), its flows with the leak as evidence, and the alert. */
    private fun assertHistory(history: HistoryReader, appKey: String, web: FlowRecord, leak: AlertRecord) {
        val app = history.apps().first()
        assertEquals(listOf(appKey, APP_UID.toUInt(), "AutoRegistration", Severity.HIGH), listOf(app.appKey, app.uid, app.app, app.maxSeverity))
        assertTrue("$app", app.flows >= 2u && app.alerts >= 1u)
        val flows = history.flows(PageRequest(appKey, null, 100u))
        assertTrue("DNS and HTTP flows: $flows", flows.any { it.record.l7 == L7.DNS } && flows.any { it.record.l7 == L7.HTTP })
        val item = flows.first { it.record.l7 == L7.HTTP }
        val detail = history.flow(item.id) ?: error("flow ${item.id} not kept")
        assertEquals(web, detail.flow?.record)
        assertTrue("the leak is the flow's evidence: $detail", detail.alerts.contains(leak))
        assertEquals(detail, history.flowOfAlert(org.phonehome.ui.FlowRef.of(leak).alert))
        assertEquals(listOf(leak), history.alerts(PageRequest(appKey, null, 100u)).map { it.record }.filter { it.kind == AlertKind.IDENTIFIER_LEAK })
        assertTrue(history.destinations(appKey, 10u).any { it.destination == HOST })
    }

    private fun serveInInternet() {
        val ready = java.util.concurrent.CountDownLatch(2)
        thread(isDaemon = true, name = "http-server") {
            enterNamespace(internet)
            ServerSocket().use { server ->
                server.bind(InetSocketAddress(SERVER, HTTP_PORT))
                ready.countDown()
                while (true) {
                    server.accept().use { client ->
                        val reader = client.getInputStream().bufferedReader()
                        while (reader.readLine().orEmpty().isNotEmpty()) Unit
                        client.getOutputStream().write("HTTP/1.0 200 OK\r\nContent-Length: 10\r\n\r\nregistered".toByteArray())
                    }
                }
            }
        }
        thread(isDaemon = true, name = "dns-server") {
            enterNamespace(internet)
            DatagramSocket(InetSocketAddress(SERVER, 53)).use { socket ->
                ready.countDown()
                val buffer = ByteArray(512)
                while (true) {
                    val packet = DatagramPacket(buffer, buffer.size)
                    socket.receive(packet)
                    val reply = dnsAnswer(buffer.copyOf(packet.length))
                    socket.send(DatagramPacket(reply, reply.size, packet.socketAddress))
                }
            }
        }
        ready.await()
    }

    /** curl from inside the phone namespace, as an app would connect; its exit code and output. */
    private fun curl(url: String, host: String): Pair<Int, String> {
        val process = ProcessBuilder("ip", "netns", "exec", phone, "curl", "-sS", "--max-time", "15", "-H", "Host: $host", url)
            .redirectErrorStream(true).start()
        val output = process.inputStream.bufferedReader().readText()
        return process.waitFor() to output
    }

    private fun curlInPhone(url: String, host: String): String {
        val (code, output) = curl(url, host)
        check(code == 0) { "curl: $output" }
        return output
    }

    /** Writes an export to a real file descriptor, as the Storage Access Framework hands one over. */
    private fun export(write: (Int) -> ULong): String {
        val file = File.createTempFile("phonehome-export", ".txt")
        try {
            val fd = LibC.C.open(file.path, LibC.O_WRONLY or LibC.O_CREAT or LibC.O_TRUNC, 0x180)
            check(fd >= 0) { "open ${file.path}" }
            try {
                assertTrue(write(fd) > 0u)
            } finally {
                LibC.C.close(fd)
            }
            return file.readText()
        } finally {
            file.delete()
        }
    }

    private companion object {
        const val MARK = 100
        const val SERVER = "10.200.1.2"
        const val HTTP_PORT = 8080
        const val HOST = "zzhc.vnet.cn"
        const val IMEI = "356938035643809"
        const val APP_UID = 10_123
        const val APP_PACKAGE = "com.qualcomm.qti.autoregistration"

        fun dnsQuery(server: String, name: String): List<InetAddress> = DatagramSocket().use { socket ->
            socket.soTimeout = 10_000
            val query = byteArrayOf(0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0) +
                name.split('.').flatMap { listOf(it.length.toByte()) + it.toByteArray().toList() }.toByteArray() +
                byteArrayOf(0, 0, 1, 0, 1)
            socket.send(DatagramPacket(query, query.size, InetAddress.getByName(server), 53))
            val buffer = ByteArray(512)
            val packet = DatagramPacket(buffer, buffer.size)
            socket.receive(packet)
            // The one A record our server appends is the last four bytes.
            listOf(InetAddress.getByAddress(buffer.copyOfRange(packet.length - 4, packet.length)))
        }

        /** Answers any query with one A record for [SERVER]. */
        fun dnsAnswer(query: ByteArray): ByteArray {
            if (query.size < 12) return query
            val answer = query.copyOf()
            answer[2] = 0x81.toByte(); answer[3] = 0x80.toByte(); answer[6] = 0; answer[7] = 1
            return answer + byteArrayOf(0xc0.toByte(), 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 10, 200.toByte(), 1, 2)
        }
    }
}
