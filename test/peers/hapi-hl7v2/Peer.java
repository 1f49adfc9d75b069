/*
 * Conduit third-party conformance peer: HAPI HL7v2 2.6.0, HL7 v2.5.1 ORU^R01.
 *
 * Single-file program (no package) so that it runs either pre-compiled
 * (setup.sh puts Peer.class into lib/classes) or in source-launch mode:
 *
 *   java -cp 'lib/*' Peer.java validate <file-or-dir>...
 *   java -cp 'lib/*' Peer.java serve <port>          (port 0 = pick a free port)
 *   java -cp 'lib/*' Peer.java describe              (prints HAPI's required flags for ORU_R01)
 *
 * validate: one JSON line per file on stdout
 *   {"file":"...","ok":true|false,"issues":["..."],"controlId":"..."}   (controlId omitted if unknown)
 *   exit 0 iff every file has zero issues, 1 otherwise, 2 on usage errors.
 * serve: MLLP server bound to 127.0.0.1 only. Prints "READY <port>" once listening, then one line per message
 *   {"event":"message","controlId":"...","ack":"AA|AE|AR","issues":["..."]}
 *   Runs until stdin closes or SIGTERM, then exits 0.
 *
 * HAPI never checks required segments/fields itself, so this program walks the parsed structure with
 * Group.isRequired(name) / Segment.isRequired(field). Issues are strings "<location>: <text>" where location is
 * like ORU_R01/PATIENT_RESULT(0)/ORDER_OBSERVATION(0)/OBR-4 (repeating groups/segments carry their
 * zero-based repetition index, non-repeating ones do not).
 *
 * Logging: slf4j-simple at WARN on stderr (defaults set below unless given with -D).
 */

import ca.uhn.hl7v2.AcknowledgmentCode;
import ca.uhn.hl7v2.DefaultHapiContext;
import ca.uhn.hl7v2.ErrorCode;
import ca.uhn.hl7v2.HL7Exception;
import ca.uhn.hl7v2.HapiContext;
import ca.uhn.hl7v2.Location;
import ca.uhn.hl7v2.Severity;
import ca.uhn.hl7v2.app.HL7Service;
import ca.uhn.hl7v2.llp.MinLowerLayerProtocol;
import ca.uhn.hl7v2.model.Group;
import ca.uhn.hl7v2.model.Message;
import ca.uhn.hl7v2.model.Segment;
import ca.uhn.hl7v2.model.Structure;
import ca.uhn.hl7v2.model.Type;
import ca.uhn.hl7v2.parser.CanonicalModelClassFactory;
import ca.uhn.hl7v2.parser.ParserConfiguration;
import ca.uhn.hl7v2.parser.UnexpectedSegmentBehaviourEnum;
import ca.uhn.hl7v2.protocol.ReceivingApplication;
import ca.uhn.hl7v2.protocol.ReceivingApplicationExceptionHandler;
import ca.uhn.hl7v2.util.SocketFactory;
import ca.uhn.hl7v2.util.StandardSocketFactory;
import ca.uhn.hl7v2.util.Terser;
import ca.uhn.hl7v2.util.idgenerator.InMemoryIDGenerator;
import ca.uhn.hl7v2.validation.ValidationException;
import ca.uhn.hl7v2.validation.ValidationExceptionHandler;
import ca.uhn.hl7v2.validation.ValidationExceptionHandlerFactory;
import ca.uhn.hl7v2.validation.builder.support.DefaultValidationWithoutTNBuilder;

import java.io.File;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketAddress;
import java.net.SocketException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.Charset;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

public class Peer {

    static final String EXPECTED_VERSION = "2.5.1";
    static final int MAX_ERR_SEGMENTS = 20;

    /** Exit status used by the serve-mode shutdown hook (SIGTERM and stdin EOF are normal stops: 0). */
    static volatile int exitStatus = 0;

    /** stdout as UTF-8; every line is ASCII anyway (JSON strings are \\u-escaped). */
    static final PrintStream OUT = new PrintStream(new FileOutputStream(FileDescriptor.out), false, StandardCharsets.UTF_8);

    static synchronized void emit(String line) {
        OUT.print(line);
        OUT.print('\n');
        OUT.flush();
    }

    public static void main(String[] args) throws Exception {
        setDefaultProperty("org.slf4j.simpleLogger.defaultLogLevel", "warn");
        setDefaultProperty("org.slf4j.simpleLogger.logFile", "System.err");
        if (args.length == 0) {
            usage("missing mode");
            return;
        }
        switch (args[0]) {
            case "validate" -> System.exit(validate(Arrays.copyOfRange(args, 1, args.length)));
            case "serve" -> serve(Arrays.copyOfRange(args, 1, args.length));
            case "describe" -> describe();
            default -> usage("unknown mode " + args[0]);
        }
    }

    static void setDefaultProperty(String key, String value) {
        if (System.getProperty(key) == null) System.setProperty(key, value);
    }

    static void usage(String why) {
        System.err.println("Peer: " + why);
        System.err.println("usage: Peer validate <file-or-dir>...   (dirs: *.hl7 / *.er7, non-recursive)");
        System.err.println("       Peer serve <port>                (0 = free port; prints READY <port>)");
        System.err.println("       Peer describe                    (required flags of HAPI's v2.5.1 ORU_R01)");
        System.exit(2);
    }

    // ------------------------------------------------------------------------------------------------
    // HAPI context: strict parser, default validation without the US phone rule, forced v2.5.1 model
    // ------------------------------------------------------------------------------------------------

    static HapiContext newContext() {
        HapiContext ctx = new DefaultHapiContext();
        ParserConfiguration pc = ctx.getParserConfiguration();
        pc.setUnexpectedSegmentBehaviour(UnexpectedSegmentBehaviourEnum.THROW_HL7_EXCEPTION);
        pc.setValidating(true);
        // The default FileBasedHiLoGenerator writes an "id_file" into the working directory for ACK MSH-10s.
        pc.setIdGenerator(new InMemoryIDGenerator());
        ctx.setValidationRuleBuilder(new DefaultValidationWithoutTNBuilder());
        ctx.setModelClassFactory(new CanonicalModelClassFactory(EXPECTED_VERSION));
        ctx.setValidationExceptionHandlerFactory(new CollectingFactory());
        return ctx;
    }

    /**
     * Message-level validation exceptions (HAPI's message/encoding rules) are collected per thread instead of
     * aborting the parse with a detail-less "Validation has failed"; they are reported as issues. Primitive
     * rule violations (NM, DT, DTM, SI, ...) are thrown by Primitive.setValue() during parsing and show up as
     * parse errors.
     */
    static final class CollectingFactory implements ValidationExceptionHandlerFactory<Boolean> {
        static final ThreadLocal<List<ValidationException>> SINK = ThreadLocal.withInitial(ArrayList::new);

        static List<ValidationException> drain() {
            List<ValidationException> l = new ArrayList<>(SINK.get());
            SINK.get().clear();
            return l;
        }

        @Override
        public ValidationExceptionHandler<Boolean> getNewInstance(HapiContext context) {
            return new ValidationExceptionHandler<>() {
                boolean failed;

                @Override
                public void onExceptions(ValidationException... exceptions) {
                    for (ValidationException ve : exceptions) {
                        if (ve.getSeverity() == Severity.ERROR) {
                            failed = true;
                            SINK.get().add(ve);
                        }
                    }
                }

                @Override
                public Boolean result() {
                    return !failed;
                }

                @Override
                public void setValidationSubject(Object subject) {
                }

                @Override
                public boolean hasFailed() {
                    return false; // never abort the parse; collected exceptions are reported by the caller
                }
            };
        }
    }

    // ------------------------------------------------------------------------------------------------
    // Conformance checks
    // ------------------------------------------------------------------------------------------------

    /** One finding. text is the full "<location>: <what>" string; code/location feed the ERR segment. */
    record Issue(String text, ErrorCode code, Location location, boolean reject) {
        HL7Exception toException() {
            HL7Exception e = new HL7Exception(text, code);
            if (location != null) e.setLocation(location);
            return e;
        }
    }

    static String locationText(Location l) {
        return l == null || l.isUnknown() ? "unknown location" : l.toString().replaceFirst("^/", "");
    }

    static Issue parseIssue(HL7Exception e) {
        Location l = e.getLocation();
        if (l != null && l.getField() > 0 && isDelimDefSegment(l.getSegmentName())) {
            // HAPI quirk: PipeParser.parse(Segment, ...) reports the split index, not the field number, which is
            // one less than the field number for MSH/FHS/BHS (MSH-1 is the separator itself).
            l = new Location(l).withField(l.getField() + 1);
        }
        return new Issue(locationText(l) + ": parse error: " + causeMessage(e), e.getError(), l, false);
    }

    static boolean isDelimDefSegment(String name) {
        return "MSH".equals(name) || "FHS".equals(name) || "BHS".equals(name);
    }

    /** The innermost ValidationException's message if any (HAPI wraps them as "ca.uhn...ValidationException: ..."). */
    static String causeMessage(HL7Exception e) {
        for (Throwable c = e; c != null; c = c.getCause()) {
            if (c instanceof ValidationException ve) return ve.getMessageWithoutLocation();
            if (c.getCause() == c) break;
        }
        return e.getMessageWithoutLocation();
    }

    static Issue validationIssue(ValidationException ve) {
        Location l = ve.getLocation();
        return new Issue(locationText(l) + ": validation error: " + ve.getMessageWithoutLocation(), ve.getError(), l, false);
    }

    /** Header checks (MSH-9 / MSH-12 / model class) followed by the required segment/field walk. */
    static List<Issue> check(Message msg) throws HL7Exception {
        List<Issue> issues = new ArrayList<>();
        Terser t = new Terser(msg);
        String type = nz(t.get("/MSH-9-1"));
        String event = nz(t.get("/MSH-9-2"));
        String structure = nz(t.get("/MSH-9-3"));
        String version = nz(t.get("/MSH-12-1"));
        if (!type.equals("ORU") || !event.equals("R01")) {
            issues.add(new Issue("MSH-9: message type is " + type + "^" + event + ", expected ORU^R01",
                    ErrorCode.UNSUPPORTED_MESSAGE_TYPE, new Location().withSegmentName("MSH").withField(9), true));
        } else if (!structure.isEmpty() && !structure.equals("ORU_R01")) {
            issues.add(new Issue("MSH-9-3: message structure is " + structure + ", expected ORU_R01",
                    ErrorCode.UNSUPPORTED_MESSAGE_TYPE,
                    new Location().withSegmentName("MSH").withField(9).withComponent(3), true));
        }
        if (!version.equals(EXPECTED_VERSION)) {
            issues.add(new Issue("MSH-12: version is " + (version.isEmpty() ? "(empty)" : version) + ", expected "
                    + EXPECTED_VERSION, ErrorCode.UNSUPPORTED_VERSION_ID,
                    new Location().withSegmentName("MSH").withField(12), true));
        }
        if (!(msg instanceof ca.uhn.hl7v2.model.v251.message.ORU_R01)) {
            issues.add(new Issue(msg.getName() + ": parsed as " + msg.getClass().getName()
                    + ", expected ca.uhn.hl7v2.model.v251.message.ORU_R01", ErrorCode.UNSUPPORTED_MESSAGE_TYPE,
                    null, true));
        }
        walkGroup(msg, msg.getName(), new Location(), issues);
        return issues;
    }

    static void walkGroup(Group g, String path, Location loc, List<Issue> issues) throws HL7Exception {
        for (String name : g.getNames()) {
            Structure[] reps = g.getAll(name); // does not create repetitions
            boolean repeating = g.isRepeating(name);
            int present = 0;
            for (int i = 0; i < reps.length; i++) {
                Structure s = reps[i];
                if (s.isEmpty()) continue;
                present++;
                String childPath = path + "/" + name + (repeating ? "(" + i + ")" : "");
                if (s instanceof Group child) {
                    walkGroup(child, childPath, new Location(loc).pushGroup(name, i), issues);
                } else if (s instanceof Segment seg) {
                    walkSegment(seg, childPath, new Location(loc).withSegmentName(name).withSegmentRepetition(i + 1),
                            issues);
                }
            }
            if (present == 0 && g.isRequired(name)) {
                boolean isGroup = g.isGroup(name);
                Location l = new Location(loc);
                if (!isGroup) l.withSegmentName(name);
                issues.add(new Issue(path + "/" + name + ": required " + (isGroup ? "group" : "segment") + " is missing",
                        isGroup ? ErrorCode.SEGMENT_SEQUENCE_ERROR : ErrorCode.REQUIRED_FIELD_MISSING, l, false));
            }
        }
    }

    static void walkSegment(Segment seg, String path, Location loc, List<Issue> issues) throws HL7Exception {
        String[] names = seg.getNames();
        for (int f = 1; f <= seg.numFields(); f++) {
            if (!seg.isRequired(f)) continue;
            boolean empty = true;
            for (Type rep : seg.getField(f)) {
                if (!rep.isEmpty()) {
                    empty = false;
                    break;
                }
            }
            if (empty) {
                String fieldName = f - 1 < names.length ? names[f - 1] : "?";
                issues.add(new Issue(path + "-" + f + ": required field " + seg.getName() + "-" + f + " (" + fieldName
                        + ") is empty", ErrorCode.REQUIRED_FIELD_MISSING, new Location(loc).withField(f), false));
            }
        }
    }

    static String nz(String s) {
        return s == null ? "" : s;
    }

    // ------------------------------------------------------------------------------------------------
    // validate mode
    // ------------------------------------------------------------------------------------------------

    static int validate(String[] paths) throws IOException {
        if (paths.length == 0) usage("validate needs at least one file or directory");
        List<File> files = new ArrayList<>();
        for (String p : paths) {
            File f = new File(p);
            if (f.isDirectory()) {
                File[] children = f.listFiles((dir, n) -> {
                    String lower = n.toLowerCase();
                    return lower.endsWith(".hl7") || lower.endsWith(".er7");
                });
                if (children == null) usage("cannot list directory " + p);
                Arrays.sort(children);
                for (File c : children) if (c.isFile()) files.add(c);
            } else if (f.isFile()) {
                files.add(f);
            } else {
                usage("no such file or directory: " + p);
            }
        }
        HapiContext ctx = newContext();
        boolean allOk = true;
        for (File f : files) {
            List<String> issues = new ArrayList<>();
            String controlId = null;
            try {
                String text = readMessage(Files.readAllBytes(f.toPath()), issues);
                controlId = rawControlId(text);
                CollectingFactory.drain();
                Message msg = null;
                try {
                    msg = ctx.getPipeParser().parse(text);
                } catch (HL7Exception e) {
                    issues.add(parseIssue(e).text());
                }
                for (ValidationException ve : CollectingFactory.drain()) issues.add(validationIssue(ve).text());
                if (msg != null) {
                    String id = new Terser(msg).get("/MSH-10");
                    if (id != null) controlId = id;
                    for (Issue i : check(msg)) issues.add(i.text());
                }
            } catch (Exception e) {
                issues.add("file: " + e.getClass().getSimpleName() + ": " + e.getMessage());
            }
            boolean ok = issues.isEmpty();
            allOk &= ok;
            StringBuilder sb = new StringBuilder("{\"file\":").append(json(f.getPath()))
                    .append(",\"ok\":").append(ok).append(",\"issues\":").append(json(issues));
            if (controlId != null) sb.append(",\"controlId\":").append(json(controlId));
            emit(sb.append('}').toString());
        }
        return allOk ? 0 : 1;
    }

    /**
     * Decodes a message file: strips a UTF-8 BOM, decodes strictly with the charset named in MSH-18 (UTF-8 when
     * absent; ASCII is a subset), normalises \r\n and \n to \r and drops blank segments.
     */
    static String readMessage(byte[] bytes, List<String> issues) {
        int start = 0;
        if (bytes.length >= 3 && (bytes[0] & 0xff) == 0xEF && (bytes[1] & 0xff) == 0xBB && (bytes[2] & 0xff) == 0xBF) {
            start = 3;
        }
        ByteBuffer buf = ByteBuffer.wrap(bytes, start, bytes.length - start);
        String latin1 = new String(bytes, start, bytes.length - start, StandardCharsets.ISO_8859_1);
        Charset cs = StandardCharsets.UTF_8;
        String msh18 = rawMshField(normalise(latin1), 18);
        if (msh18 != null && !msh18.isEmpty()) {
            String first = msh18.split(java.util.regex.Pattern.quote(String.valueOf(repetitionSeparator(latin1))), -1)[0];
            Charset mapped = hl7Charset(first);
            if (mapped != null) cs = mapped;
            else issues.add("MSH-18: unknown character set " + first + ", decoding as UTF-8");
        }
        String text;
        try {
            text = cs.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(buf).toString();
        } catch (CharacterCodingException e) {
            issues.add("file: bytes are not valid " + cs.name() + " (" + e + ")");
            text = latin1;
        }
        return normalise(text);
    }

    /** HL7 table 0211 to Java charsets (same mapping as HAPI's package-private ca.uhn.hl7v2.llp.HL7Charsets). */
    static Charset hl7Charset(String name) {
        String java = switch (name) {
            case "ASCII", "ISO IR6" -> "US-ASCII";
            case "8859/1" -> "ISO-8859-1";
            case "8859/2" -> "ISO-8859-2";
            case "8859/3" -> "ISO-8859-3";
            case "8859/4" -> "ISO-8859-4";
            case "8859/5" -> "ISO-8859-5";
            case "8859/6" -> "ISO-8859-6";
            case "8859/7" -> "ISO-8859-7";
            case "8859/8" -> "ISO-8859-8";
            case "8859/9" -> "ISO-8859-9";
            case "8859/15" -> "ISO-8859-15";
            case "ISO IR14" -> "JIS_X0201";
            case "ISO IR87" -> "x-JIS0208";
            case "ISO IR159" -> "JIS_X0212-1990";
            case "GB 18030-2000" -> "GB18030";
            case "KS X 1001" -> "EUC-KR";
            case "CNS 11643-1992" -> "x-EUC-TW";
            case "BIG-5" -> "Big5";
            case "UNICODE", "UNICODE UTF-8" -> "UTF-8";
            case "UNICODE UTF-16" -> "UTF-16";
            case "UNICODE UTF-32" -> "UTF-32";
            default -> null;
        };
        try {
            return java == null ? null : Charset.forName(java);
        } catch (Exception e) {
            return null;
        }
    }

    static String normalise(String text) {
        String[] segs = text.replace("\r\n", "\r").replace('\n', '\r').split("\r");
        StringBuilder sb = new StringBuilder();
        for (String s : segs) {
            if (s.isBlank()) continue;
            if (sb.length() > 0) sb.append('\r');
            sb.append(s);
        }
        return sb.toString();
    }

    static char repetitionSeparator(String text) {
        int i = text.indexOf("MSH");
        return i >= 0 && text.length() > i + 5 ? text.charAt(i + 5) : '~';
    }

    /** MSH-n from raw text (n >= 3), or null. Works on unparseable messages. */
    static String rawMshField(String text, int n) {
        if (text == null) return null;
        int i = text.indexOf("MSH");
        if (i < 0 || text.length() < i + 4) return null;
        String line = text.substring(i).split("[\r\n]", 2)[0];
        char sep = line.charAt(3);
        String[] fields = line.split(java.util.regex.Pattern.quote(String.valueOf(sep)), -1);
        // fields[0] = "MSH", fields[1] = MSH-2 (MSH-1 is the separator itself), so MSH-n = fields[n - 1]
        return n - 1 < fields.length ? fields[n - 1] : null;
    }

    static String rawControlId(String text) {
        String id = rawMshField(text, 10);
        if (id == null) return null;
        int i = text.indexOf("MSH");
        char comp = text.length() > i + 4 ? text.charAt(i + 4) : '^';
        int c = id.indexOf(comp);
        return c >= 0 ? id.substring(0, c) : id;
    }

    // ------------------------------------------------------------------------------------------------
    // serve mode
    // ------------------------------------------------------------------------------------------------

    /** HAPI's AcceptorThread does ss.bind(new InetSocketAddress(port)), i.e. all interfaces: re-bind to loopback. */
    static final class LoopbackSocketFactory extends StandardSocketFactory {
        final CompletableFuture<Integer> boundPort = new CompletableFuture<>();

        @Override
        public ServerSocket createServerSocket() throws IOException {
            return new ServerSocket() {
                @Override
                public void bind(SocketAddress endpoint, int backlog) throws IOException {
                    int port = endpoint instanceof InetSocketAddress isa ? isa.getPort() : 0;
                    try {
                        super.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), backlog);
                        boundPort.complete(getLocalPort());
                    } catch (IOException e) {
                        boundPort.completeExceptionally(e);
                        throw e;
                    }
                }
            };
        }

        @Override
        public ServerSocket createTlsServerSocket() throws IOException {
            throw new IOException("TLS is not supported by this peer");
        }

        @Override
        public void configureNewAcceptedSocket(Socket s) throws SocketException {
            super.configureNewAcceptedSocket(s);
            s.setTcpNoDelay(true);
        }
    }

    static void serve(String[] args) throws Exception {
        if (args.length != 1) usage("serve needs exactly one port");
        int port;
        try {
            port = Integer.parseInt(args[0]);
        } catch (NumberFormatException e) {
            usage("not a port: " + args[0]);
            return;
        }
        if (port < 0 || port > 65535) usage("not a port: " + args[0]);

        HapiContext ctx = newContext();
        LoopbackSocketFactory sockets = new LoopbackSocketFactory();
        ctx.setSocketFactory(sockets);
        // Respect MSH-18 when decoding/encoding frames; without it HAPI reads MLLP frames as US-ASCII.
        MinLowerLayerProtocol llp = new MinLowerLayerProtocol(true);
        llp.setCharset(StandardCharsets.UTF_8); // fallback when MSH-18 is empty
        ctx.setLowerLayerProtocol(llp);

        HL7Service server = ctx.newServer(port, false);
        ReceivingApplication<Message> app = new OruApplication();
        server.registerApplication("ORU", "R01", app);
        server.registerApplication("*", "*", app);
        server.setExceptionHandler(new ParseFailureReporter());

        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                server.stop();
            } catch (Throwable ignored) {
                // exiting anyway
            }
            OUT.flush();
            Runtime.getRuntime().halt(exitStatus); // SIGTERM is a normal way to stop this peer: 0, not 143
        }, "peer-shutdown"));

        server.startAndWait();
        int bound;
        try {
            bound = sockets.boundPort.get(15, TimeUnit.SECONDS);
        } catch (Exception e) {
            System.err.println("Peer: MLLP server did not start: " + e);
            exitStatus = 1;
            System.exit(1);
            return;
        }
        emit("READY " + bound);

        // Run until stdin closes (parent went away or closed the pipe) or SIGTERM (shutdown hook).
        InputStream in = System.in;
        byte[] buf = new byte[256];
        try {
            while (in.read(buf) >= 0) {
                // ignore input
            }
        } catch (IOException ignored) {
            // treat like EOF
        }
        System.exit(0);
    }

    static final class OruApplication implements ReceivingApplication<Message> {
        @Override
        public Message processMessage(Message msg, Map<String, Object> metadata) throws HL7Exception {
            List<Issue> issues = new ArrayList<>();
            for (ValidationException ve : CollectingFactory.drain()) issues.add(validationIssue(ve));
            issues.addAll(check(msg));
            String controlId = nz(new Terser(msg).get("/MSH-10"));
            AcknowledgmentCode code = AcknowledgmentCode.AA;
            if (!issues.isEmpty()) {
                code = issues.stream().anyMatch(Issue::reject) ? AcknowledgmentCode.AR : AcknowledgmentCode.AE;
            }
            Message ack;
            try {
                if (issues.isEmpty()) {
                    ack = msg.generateACK();
                } else {
                    ack = msg.generateACK(code, issues.get(0).toException());
                    for (int i = 1; i < issues.size() && i < MAX_ERR_SEGMENTS; i++) {
                        issues.get(i).toException().populateResponse(ack, code, i);
                    }
                }
                // generateACK does not copy MSH-18; the MLLP writer picks the charset from the ACK's MSH-18.
                String charset = new Terser(msg).get("/MSH-18");
                if (charset != null && !charset.isEmpty()) new Terser(ack).set("/MSH-18", charset);
            } catch (IOException e) {
                throw new HL7Exception("cannot build ACK: " + e.getMessage(), e);
            }
            List<String> texts = new ArrayList<>();
            for (Issue i : issues) texts.add(i.text());
            emit("{\"event\":\"message\",\"controlId\":" + json(controlId) + ",\"ack\":" + json(code.name())
                    + ",\"issues\":" + json(texts) + "}");
            return ack;
        }

        @Override
        public boolean canProcess(Message msg) {
            return true;
        }
    }

    /** Called by HAPI when parsing (or our application) failed; HAPI has already built the AE/AR answer. */
    static final class ParseFailureReporter implements ReceivingApplicationExceptionHandler {
        @Override
        public String processException(String incoming, Map<String, Object> metadata, String outgoing, Exception e) {
            CollectingFactory.drain();
            String text = incoming == null ? null : normalise(incoming);
            String controlId = nz(rawControlId(text));
            String issue = e instanceof HL7Exception h ? parseIssue(h).text()
                    : "unknown location: error: " + e.getClass().getSimpleName() + ": " + e.getMessage();
            String ack = outgoing == null ? "none" : ackCode(outgoing);
            emit("{\"event\":\"message\",\"controlId\":" + json(controlId) + ",\"ack\":" + json(ack) + ",\"issues\":"
                    + json(List.of(issue)) + "}");
            return outgoing;
        }

        static String ackCode(String ack) {
            for (String seg : normalise(ack).split("\r")) {
                if (seg.startsWith("MSA") && seg.length() > 4) {
                    String[] f = seg.split(java.util.regex.Pattern.quote(String.valueOf(seg.charAt(3))), -1);
                    return f.length > 1 ? f[1] : "";
                }
            }
            return "";
        }
    }

    // ------------------------------------------------------------------------------------------------
    // describe mode: which fields/segments HAPI's v2.5.1 ORU_R01 model marks required
    // ------------------------------------------------------------------------------------------------

    static void describe() throws HL7Exception {
        ca.uhn.hl7v2.model.v251.message.ORU_R01 msg = new ca.uhn.hl7v2.model.v251.message.ORU_R01();
        describeGroup(msg, "ORU_R01", "");
    }

    static void describeGroup(Group g, String path, String indent) throws HL7Exception {
        System.out.println(indent + path + " (group)");
        for (String name : g.getNames()) {
            String card = (g.isRequired(name) ? "1" : "0") + ".." + (g.isRepeating(name) ? "*" : "1");
            Structure s = g.get(name);
            if (s instanceof Group child) {
                System.out.println(indent + "  " + name + " [" + card + "]");
                describeGroup(child, name, indent + "    ");
            } else if (s instanceof Segment seg) {
                List<String> req = new ArrayList<>();
                String[] names = seg.getNames();
                for (int f = 1; f <= seg.numFields(); f++) {
                    if (seg.isRequired(f)) req.add(name + "-" + f + " " + names[f - 1]);
                }
                System.out.println(indent + "  " + name + " [" + card + "] required fields: " + req);
            }
        }
    }

    // ------------------------------------------------------------------------------------------------
    // JSON (ASCII-only output)
    // ------------------------------------------------------------------------------------------------

    static String json(String s) {
        if (s == null) return "null";
        StringBuilder sb = new StringBuilder(s.length() + 2).append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                default -> {
                    if (c < 0x20 || c > 0x7e) sb.append(String.format("\\u%04x", (int) c));
                    else sb.append(c);
                }
            }
        }
        return sb.append('"').toString();
    }

    static String json(List<String> l) {
        StringBuilder sb = new StringBuilder("[");
        for (int i = 0; i < l.size(); i++) {
            if (i > 0) sb.append(',');
            sb.append(json(l.get(i)));
        }
        return sb.append(']').toString();
    }
}
