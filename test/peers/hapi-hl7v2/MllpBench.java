/*
 * MLLP round trips with HAPI HL7v2's own client and server, for test/bench/hapi-mllp.bench.ts
 * (the HAPI figures beside ours). Single-file program, run in source-launch mode:
 *
 *   java -cp 'lib/*' MllpBench.java server
 *       HAPI's server (SimpleServer via HapiContext.newServer) on 127.0.0.1, a free port; prints
 *       "READY <port>", answers every message with msg.generateACK() (AA); runs until stdin closes.
 *   java -cp 'lib/*' MllpBench.java client <port> <message-file> <warm-up> <count>
 *       HAPI's client (HapiContext.newClient, Initiator.sendAndReceive) on one connection, one
 *       message outstanding; each message is the file's ORU^R01 with its own MSH-10. Prints one
 *       JSON line: {"roundTrips":N,"ms":T,"perSecond":R}. Exit 1 when an answer is not AA.
 *
 * Both sides parse with HAPI's PipeParser, validation off (the transport and the codec are
 * measured, not HAPI's primitive-type rules); MinLowerLayerProtocol as HAPI ships it.
 */

import ca.uhn.hl7v2.DefaultHapiContext;
import ca.uhn.hl7v2.HL7Exception;
import ca.uhn.hl7v2.HapiContext;
import ca.uhn.hl7v2.app.Connection;
import ca.uhn.hl7v2.app.HL7Service;
import ca.uhn.hl7v2.app.Initiator;
import ca.uhn.hl7v2.model.Message;
import ca.uhn.hl7v2.protocol.ReceivingApplication;
import ca.uhn.hl7v2.util.StandardSocketFactory;
import ca.uhn.hl7v2.util.Terser;
import ca.uhn.hl7v2.util.idgenerator.InMemoryIDGenerator;
import ca.uhn.hl7v2.validation.impl.ValidationContextFactory;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketAddress;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

public class MllpBench {

    public static void main(String[] args) throws Exception {
        if (args.length == 1 && args[0].equals("server")) {
            server();
        } else if (args.length == 5 && args[0].equals("client")) {
            client(Integer.parseInt(args[1]), Path.of(args[2]), Integer.parseInt(args[3]), Integer.parseInt(args[4]));
        } else {
            System.err.println("usage: MllpBench server | MllpBench client <port> <message-file> <warm-up> <count>");
            System.exit(2);
        }
    }

    static HapiContext context() {
        HapiContext ctx = new DefaultHapiContext();
        ctx.setValidationContext(ValidationContextFactory.noValidation());
        // generateACK's default ID generator writes an id_file into the working directory.
        ctx.getParserConfiguration().setIdGenerator(new InMemoryIDGenerator());
        return ctx;
    }

    /** HAPI's AcceptorThread binds all interfaces: re-bind to loopback, and report the port. */
    static final class LoopbackSocketFactory extends StandardSocketFactory {
        final CompletableFuture<Integer> boundPort = new CompletableFuture<>();

        @Override
        public ServerSocket createServerSocket() throws IOException {
            return new ServerSocket() {
                @Override
                public void bind(SocketAddress endpoint, int backlog) throws IOException {
                    int port = endpoint instanceof InetSocketAddress isa ? isa.getPort() : 0;
                    super.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), backlog);
                    boundPort.complete(getLocalPort());
                }
            };
        }

        @Override
        public void configureNewAcceptedSocket(Socket s) throws SocketException {
            super.configureNewAcceptedSocket(s);
            s.setTcpNoDelay(true);
        }
    }

    static void server() throws Exception {
        HapiContext ctx = context();
        LoopbackSocketFactory sockets = new LoopbackSocketFactory();
        ctx.setSocketFactory(sockets);
        HL7Service server = ctx.newServer(0, false);
        server.registerApplication("*", "*", new ReceivingApplication<Message>() {
            @Override
            public Message processMessage(Message msg, Map<String, Object> metadata) throws HL7Exception {
                try {
                    return msg.generateACK();
                } catch (IOException e) {
                    throw new HL7Exception(e);
                }
            }

            @Override
            public boolean canProcess(Message msg) {
                return true;
            }
        });
        server.startAndWait();
        System.out.println("READY " + sockets.boundPort.get(15, TimeUnit.SECONDS));
        System.out.flush();
        InputStream in = System.in;
        byte[] buf = new byte[256];
        try {
            while (in.read(buf) >= 0) {
                // until the parent closes stdin
            }
        } catch (IOException ignored) {
            // like EOF
        }
        server.stop();
        System.exit(0);
    }

    static void client(int port, Path messageFile, int warmUp, int count) throws Exception {
        HapiContext ctx = context();
        String text = Files.readString(messageFile, StandardCharsets.UTF_8).replace("\r\n", "\r").replace('\n', '\r');
        Message msg = ctx.getPipeParser().parse(text);
        Terser terser = new Terser(msg);
        Connection connection = ctx.newClient("127.0.0.1", port, false);
        Initiator initiator = connection.getInitiator();
        initiator.setTimeout(30, TimeUnit.SECONDS);
        for (int i = 0; i < warmUp; i++) roundTrip(initiator, terser, msg, "W" + i);
        long t0 = System.nanoTime();
        for (int i = 0; i < count; i++) roundTrip(initiator, terser, msg, "H" + i);
        double ms = (System.nanoTime() - t0) / 1e6;
        System.out.printf("{\"roundTrips\":%d,\"ms\":%.1f,\"perSecond\":%.1f}%n", count, ms, count * 1000.0 / ms);
        System.out.flush();
        connection.close();
        ctx.close();
        System.exit(0);
    }

    static void roundTrip(Initiator initiator, Terser terser, Message msg, String controlId) throws Exception {
        terser.set("/MSH-10", controlId);
        Message ack = initiator.sendAndReceive(msg);
        String code = new Terser(ack).get("/MSA-1");
        if (!"AA".equals(code)) {
            System.err.println("MllpBench: answer to " + controlId + " is " + code + ", not AA");
            System.exit(1);
        }
    }
}
