/*
 * Conduit third-party conformance peer: HAPI FHIR 8.8.1 instance validator, FHIR R4, offline.
 *
 * Single-file program (no package) so that it runs either pre-compiled
 * (setup.sh puts Validator.class into lib/classes) or in source-launch mode:
 *
 *   java -cp 'lib/*' Validator.java validate <file-or-dir>...     (a dir means its *.json files, non-recursive)
 *   java -cp 'lib/*' Validator.java validate -                    (paths read from stdin, one per line)
 *
 * One JSON line per file on stdout:
 *   {"file":"...","ok":true|false,
 *    "errors":[{"severity":"error|fatal","location":"...","message":"...","messageId":"..."}],
 *    "warnings":[{"severity":"warning",...}],"information":<count>}
 *   ok is false iff the file has an error or fatal issue; messageId is omitted when HAPI gives none.
 * Exit 0 iff every file has zero errors (warnings allowed), 1 otherwise, 2 on usage errors (e.g. a missing path).
 *
 * Each file is parsed with FhirContext.forR4()'s JSON parser first (malformed JSON or an unknown resourceType is
 * one fatal issue and the file is not validated further), then its raw text is validated by FhirInstanceValidator,
 * so elements the lenient HAPI parser would drop (unknown elements, bad primitive values) are still reported.
 *
 * Validation support chain (no terminology server, nothing leaves the machine):
 *   DefaultProfileValidationSupport        base R4 StructureDefinitions, ValueSets, CodeSystems
 *   CommonCodeSystemsTerminologyService    UCUM, BCP-47, MIME types, ISO 3166/4217, USPS states...
 *   InMemoryTerminologyServerValidationSupport   expands/validates against the ValueSets/CodeSystems above
 *   SnapshotGeneratingValidationSupport    snapshots for differential-only profiles
 *   UnknownCodeSystemWarningValidationSupport (WARNING)   LOINC, SNOMED CT... are not loaded: unknown-system
 *                                          codes become warnings instead of errors
 * wrapped in a ValidationSupportChain with its built-in (Caffeine) cache. The validator is built once per JVM; the
 * first validation is the slow one (loading and indexing the R4 definitions).
 *
 * Logging: slf4j-simple at WARN on stderr (defaults set below unless given with -D).
 * -Dpeer.timing=true prints the set-up time and per-file milliseconds to stderr.
 */

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.context.support.DefaultProfileValidationSupport;
import ca.uhn.fhir.context.support.IValidationSupport;
import ca.uhn.fhir.parser.DataFormatException;
import ca.uhn.fhir.parser.IParser;
import ca.uhn.fhir.parser.LenientErrorHandler;
import ca.uhn.fhir.validation.FhirValidator;
import ca.uhn.fhir.validation.ResultSeverityEnum;
import ca.uhn.fhir.validation.SingleValidationMessage;
import ca.uhn.fhir.validation.ValidationResult;
import org.hl7.fhir.common.hapi.validation.support.CommonCodeSystemsTerminologyService;
import org.hl7.fhir.common.hapi.validation.support.InMemoryTerminologyServerValidationSupport;
import org.hl7.fhir.common.hapi.validation.support.SnapshotGeneratingValidationSupport;
import org.hl7.fhir.common.hapi.validation.support.UnknownCodeSystemWarningValidationSupport;
import org.hl7.fhir.common.hapi.validation.support.ValidationSupportChain;
import org.hl7.fhir.common.hapi.validation.validator.FhirInstanceValidator;

import java.io.BufferedReader;
import java.io.File;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

public class Validator {

    /** stdout as UTF-8; every line is ASCII anyway (JSON strings are \\u-escaped). */
    static final PrintStream OUT = new PrintStream(new FileOutputStream(FileDescriptor.out), false, StandardCharsets.UTF_8);

    static boolean timing;

    static void emit(String line) {
        OUT.print(line);
        OUT.print('\n');
        OUT.flush();
    }

    public static void main(String[] args) throws Exception {
        setDefaultProperty("org.slf4j.simpleLogger.defaultLogLevel", "warn");
        setDefaultProperty("org.slf4j.simpleLogger.logFile", "System.err");
        // Loading the built-in R4 definitions logs "Unknown element 'author' found while parsing" three times.
        setDefaultProperty("org.slf4j.simpleLogger.log.ca.uhn.fhir.parser.LenientErrorHandler", "error");
        timing = Boolean.getBoolean("peer.timing");
        if (args.length == 0) {
            usage("missing mode");
            return;
        }
        switch (args[0]) {
            case "validate" -> System.exit(validate(Arrays.copyOfRange(args, 1, args.length)));
            default -> usage("unknown mode " + args[0]);
        }
    }

    static void setDefaultProperty(String key, String value) {
        if (System.getProperty(key) == null) System.setProperty(key, value);
    }

    static void usage(String why) {
        System.err.println("Validator: " + why);
        System.err.println("usage: Validator validate <file-or-dir>...   (dirs: *.json, non-recursive)");
        System.err.println("       Validator validate -                  (paths from stdin, one per line)");
        System.exit(2);
    }

    // ------------------------------------------------------------------------------------------------
    // The validator: built once per JVM
    // ------------------------------------------------------------------------------------------------

    // UnknownCodeSystemWarningValidationSupport is deprecated since 8.6.0 in favour of a REST-server interceptor
    // (ValidationMessageUnknownCodeSystemProcessingInterceptor), which a standalone validator cannot use.
    @SuppressWarnings("deprecation")
    static FhirValidator newValidator(FhirContext ctx) {
        UnknownCodeSystemWarningValidationSupport unknownCodeSystems = new UnknownCodeSystemWarningValidationSupport(ctx);
        unknownCodeSystems.setNonExistentCodeSystemSeverity(IValidationSupport.IssueSeverity.WARNING);
        ValidationSupportChain chain = new ValidationSupportChain(
                ValidationSupportChain.CacheConfiguration.defaultValues(),
                new DefaultProfileValidationSupport(ctx),
                new CommonCodeSystemsTerminologyService(ctx),
                new InMemoryTerminologyServerValidationSupport(ctx),
                new SnapshotGeneratingValidationSupport(ctx),
                unknownCodeSystems);
        FhirInstanceValidator module = new FhirInstanceValidator(chain);
        FhirValidator validator = ctx.newValidator();
        validator.setValidateAgainstStandardSchema(false);
        validator.setValidateAgainstStandardSchematron(false);
        validator.registerValidatorModule(module);
        return validator;
    }

    // ------------------------------------------------------------------------------------------------
    // validate mode
    // ------------------------------------------------------------------------------------------------

    record Issue(String severity, String location, String message, String messageId) {
        String toJson() {
            StringBuilder sb = new StringBuilder("{\"severity\":").append(json(severity))
                    .append(",\"location\":").append(json(location))
                    .append(",\"message\":").append(json(message));
            if (messageId != null) sb.append(",\"messageId\":").append(json(messageId));
            return sb.append('}').toString();
        }
    }

    static int validate(String[] args) throws IOException {
        if (args.length == 0) usage("validate needs at least one file or directory (or - for stdin)");
        List<String> paths = new ArrayList<>();
        for (String a : args) {
            if (a.equals("-")) {
                BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
                for (String line; (line = in.readLine()) != null; ) {
                    if (!line.isBlank()) paths.add(line.strip());
                }
            } else {
                paths.add(a);
            }
        }
        List<File> files = new ArrayList<>();
        for (String p : paths) {
            File f = new File(p);
            if (f.isDirectory()) {
                File[] children = f.listFiles((dir, n) -> n.toLowerCase().endsWith(".json"));
                if (children == null) usage("cannot list directory " + p);
                Arrays.sort(children);
                for (File c : children) if (c.isFile()) files.add(c);
            } else if (f.isFile()) {
                files.add(f);
            } else {
                usage("no such file or directory: " + p);
            }
        }

        long t0 = System.nanoTime();
        FhirContext ctx = FhirContext.forR4();
        FhirValidator validator = newValidator(ctx);
        // The parser is only a gate (well-formed JSON with a known resourceType); its lenient complaints about
        // content are left to the validator, which sees the raw text and reports them with better locations.
        // (LenientErrorHandler would otherwise throw on invalid primitive values such as a bad dateTime.)
        LenientErrorHandler lenient = new LenientErrorHandler(false).disableAllErrors();
        IParser parser = ctx.newJsonParser().setParserErrorHandler(lenient);
        if (timing) System.err.printf("Validator: set-up %d ms%n", (System.nanoTime() - t0) / 1_000_000);

        boolean allOk = true;
        for (File f : files) {
            long started = System.nanoTime();
            List<Issue> errors = new ArrayList<>();
            List<Issue> warnings = new ArrayList<>();
            int information = 0;
            try {
                String text = readJson(f);
                boolean parsed;
                try {
                    parser.parseResource(text);
                    parsed = true;
                } catch (DataFormatException e) {
                    errors.add(new Issue("fatal", "(parser)", "HAPI JSON parser: " + e.getMessage(), null));
                    parsed = false;
                }
                if (parsed) {
                    ValidationResult result = validator.validateWithResult(text);
                    for (SingleValidationMessage m : result.getMessages()) {
                        ResultSeverityEnum sev = m.getSeverity() == null ? ResultSeverityEnum.ERROR : m.getSeverity();
                        Issue issue = new Issue(sev.getCode(), m.getLocationString(), m.getMessage(), m.getMessageId());
                        switch (sev) {
                            case FATAL, ERROR -> errors.add(issue);
                            case WARNING -> warnings.add(issue);
                            case INFORMATION -> information++;
                        }
                    }
                }
            } catch (CharacterCodingException e) {
                errors.add(new Issue("fatal", "(file)", "not valid UTF-8", null));
            } catch (Exception e) {
                errors.add(new Issue("fatal", "(validator)", e.getClass().getSimpleName() + ": " + e.getMessage(), null));
            }
            boolean ok = errors.isEmpty();
            allOk &= ok;
            StringBuilder sb = new StringBuilder("{\"file\":").append(json(f.getPath()))
                    .append(",\"ok\":").append(ok)
                    .append(",\"errors\":").append(json(errors))
                    .append(",\"warnings\":").append(json(warnings))
                    .append(",\"information\":").append(information);
            emit(sb.append('}').toString());
            if (timing) {
                System.err.printf("Validator: %s %d ms%n", f.getPath(), (System.nanoTime() - started) / 1_000_000);
            }
        }
        if (timing) System.err.printf("Validator: total %d ms%n", (System.nanoTime() - t0) / 1_000_000);
        return allOk ? 0 : 1;
    }

    /** Reads a file as strict UTF-8, without a leading BOM. */
    static String readJson(File f) throws IOException {
        byte[] bytes = Files.readAllBytes(f.toPath());
        int start = 0;
        if (bytes.length >= 3 && (bytes[0] & 0xff) == 0xEF && (bytes[1] & 0xff) == 0xBB && (bytes[2] & 0xff) == 0xBF) {
            start = 3;
        }
        return StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT)
                .decode(ByteBuffer.wrap(bytes, start, bytes.length - start))
                .toString();
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

    static String json(List<Issue> l) {
        StringBuilder sb = new StringBuilder("[");
        for (int i = 0; i < l.size(); i++) {
            if (i > 0) sb.append(',');
            sb.append(l.get(i).toJson());
        }
        return sb.append(']').toString();
    }
}
