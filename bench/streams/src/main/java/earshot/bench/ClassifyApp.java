/*
 * The Kafka Streams peer: what a JVM shop writes for earshot's job. Reads the
 * same rule files (brands, rules, phrase and regex terms, all/any/not groups,
 * "when" predicates), compiles every distinct term once as a caseless
 * java.util.regex Pattern (phrases get \b at word-character ends), and for
 * each post: Jackson readTree, the text by shape, every brand and every rule
 * tried in turn (terms memoised per post, trees short-circuit). The same
 * semantics as bench/python_peer.py and bench/pcre2_peer.c.
 *
 * Routes, as earshot's defaults: a post that mentions a brand -> PREFIX.enriched;
 * a complaint or question that mentions a brand -> PREFIX.tickets too; a post
 * that cannot be classified -> PREFIX.rejected. Stateless topology, default
 * at-least-once, idempotent producer (Kafka's defaults since 3.0).
 *
 *   java -cp 'target/classes:target/lib/*' earshot.bench.ClassifyApp \
 *        BOOTSTRAP INPUT PREFIX RULES_DIR APP_ID THREADS
 *
 * Runs until killed (SIGTERM closes the topology cleanly).
 */
package earshot.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.File;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import java.util.regex.Pattern;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.KStream;
import org.apache.kafka.streams.kstream.Produced;

public final class ClassifyApp {
    static final ObjectMapper JSON = new ObjectMapper();

    /** A rule tree: a leaf is a term index; a group has all/any/not children. */
    static final class Node {
        int term = -1;
        Node[] all = new Node[0], any = new Node[0], not = new Node[0];
    }

    static final class Brand {
        String id;
        int[] terms, excl;
    }

    static final class Rule {
        String id, polarity;
        Node root;
        long minFollowers = -1;
        int retweet = -1;
        List<String> langs;
        int[] brands;
    }

    final List<Pattern> terms = new ArrayList<>();
    final Map<String, Integer> index = new HashMap<>();
    final List<Brand> brands = new ArrayList<>();
    final List<Rule> rules = new ArrayList<>();

    static String phraseRegex(String s) {
        StringBuilder b = new StringBuilder();
        if (!s.isEmpty() && isWord(s.charAt(0))) b.append("\\b");
        b.append(Pattern.quote(s));
        if (!s.isEmpty() && isWord(s.charAt(s.length() - 1))) b.append("\\b");
        return b.toString();
    }

    static boolean isWord(char c) {
        return c == '_' || Character.isLetterOrDigit(c);
    }

    int term(String src) {
        return index.computeIfAbsent(src, k -> {
            terms.add(Pattern.compile(k, Pattern.CASE_INSENSITIVE));
            return terms.size() - 1;
        });
    }

    Node tree(JsonNode v) {
        Node n = new Node();
        if (v.isTextual()) {
            n.term = term(phraseRegex(v.asText()));
        } else if (v.has("regex")) {
            n.term = term(v.get("regex").asText());
        } else {
            n.all = list(v.get("all"));
            n.any = list(v.get("any"));
            n.not = list(v.get("not"));
        }
        return n;
    }

    Node[] list(JsonNode arr) {
        if (arr == null || !arr.isArray()) return new Node[0];
        Node[] out = new Node[arr.size()];
        for (int i = 0; i < out.length; i++) out[i] = tree(arr.get(i));
        return out;
    }

    int[] phrases(JsonNode b, String... keys) {
        List<Integer> out = new ArrayList<>();
        for (String k : keys)
            if (b.has(k))
                for (JsonNode t : b.get(k)) out.add(term(phraseRegex(t.asText())));
        return out.stream().mapToInt(Integer::intValue).toArray();
    }

    ClassifyApp(String dir) throws Exception {
        File[] files = new File(dir).listFiles((d, name) -> name.endsWith(".json"));
        Arrays.sort(files);
        List<JsonNode> rawRules = new ArrayList<>();
        Map<String, Integer> brandIds = new HashMap<>();
        for (File f : files) {
            JsonNode doc = JSON.readTree(f);
            if (doc.has("brands"))
                for (JsonNode b : doc.get("brands")) {
                    Brand br = new Brand();
                    br.id = b.get("id").asText();
                    br.terms = phrases(b, "aliases", "handles", "hashtags", "misspellings");
                    br.excl = phrases(b, "exclude");
                    brandIds.put(br.id, brands.size());
                    brands.add(br);
                }
            if (doc.has("rules"))
                for (JsonNode r : doc.get("rules")) rawRules.add(r);
        }
        for (JsonNode r : rawRules) {
            Rule ru = new Rule();
            ru.id = r.get("id").asText();
            ru.polarity = r.has("polarity") ? r.get("polarity").asText() : "neutral";
            ru.root = tree(r);
            JsonNode w = r.get("when");
            if (w != null) {
                if (w.has("min_followers")) ru.minFollowers = w.get("min_followers").asLong();
                if (w.has("retweet")) ru.retweet = w.get("retweet").asBoolean() ? 1 : 0;
                if (w.has("lang")) {
                    ru.langs = new ArrayList<>();
                    for (JsonNode l : w.get("lang")) ru.langs.add(l.asText().toLowerCase());
                }
                if (w.has("brands")) {
                    List<Integer> bs = new ArrayList<>();
                    for (JsonNode b : w.get("brands")) {
                        Integer i = brandIds.get(b.asText());
                        if (i != null) bs.add(i);
                    }
                    ru.brands = bs.stream().mapToInt(Integer::intValue).toArray();
                }
            }
            rules.add(ru);
        }
    }

    /** Per-post state: the text and the memo of terms tried (0 unknown, 1 hit, 2 miss). */
    final class Post {
        final String text;
        final byte[] memo = new byte[terms.size()];

        Post(String text) {
            this.text = text;
        }

        boolean hit(int t) {
            if (memo[t] == 0) memo[t] = (byte) (terms.get(t).matcher(text).find() ? 1 : 2);
            return memo[t] == 1;
        }

        boolean eval(Node n) {
            if (n.term >= 0) return hit(n.term);
            for (Node c : n.all) if (!eval(c)) return false;
            boolean any = n.any.length == 0;
            for (int i = 0; i < n.any.length && !any; i++) any = eval(n.any[i]);
            if (!any) return false;
            for (Node c : n.not) if (eval(c)) return false;
            return true;
        }
    }

    static String text(JsonNode doc) {
        JsonNode d = doc.get("data");
        if (d != null) {
            JsonNode nt = d.path("note_tweet").path("text");
            return nt.isTextual() ? nt.asText() : d.path("text").asText(null);
        }
        if (doc.has("user") || doc.has("id_str")) {
            JsonNode ft = doc.path("extended_tweet").path("full_text");
            if (ft.isTextual()) return ft.asText();
            return doc.has("full_text") ? doc.get("full_text").asText() : doc.path("text").asText(null);
        }
        return doc.path("text").asText(null);
    }

    /** (route|key, event) pairs for one input message. */
    List<KeyValue<String, String>> classify(String value) {
        List<KeyValue<String, String>> out = new ArrayList<>(2);
        JsonNode doc;
        String text;
        try {
            doc = JSON.readTree(value);
            text = doc == null ? null : text(doc);
        } catch (Exception e) {
            doc = null;
            text = null;
        }
        if (text == null || text.isEmpty()) {
            out.add(KeyValue.pair("rejected|", value));
            return out;
        }
        JsonNode d = doc.has("data") ? doc.get("data") : doc;
        String lang = d.path("lang").asText("").toLowerCase();
        long followers = doc.has("data")
            ? findFollowers(doc) : doc.path("user").path("followers_count").asLong(
                doc.path("author").path("followers").asLong(0));
        boolean rt = doc.has("data") ? d.path("referenced_tweets").toString().contains("\"retweeted\"")
            : doc.has("retweeted_status") || doc.path("is_retweet").asBoolean(false);
        Post p = new Post(text);
        boolean[] brandHit = new boolean[brands.size()];
        ObjectNode ev = JSON.createObjectNode();
        ev.put("id", d.path("id").asText(doc.path("id_str").asText("")));
        ev.put("text", text);
        var bl = ev.putArray("brands");
        for (int b = 0; b < brands.size(); b++) {
            Brand br = brands.get(b);
            int hits = 0, excl = 0;
            for (int t : br.terms) if (p.hit(t)) hits++;
            for (int i = 0; hits > 0 && i < br.excl.length; i++) if (p.hit(br.excl[i])) excl++;
            brandHit[b] = hits > excl;
            if (brandHit[b]) bl.add(br.id);
        }
        var rl = ev.putArray("matched_rules");
        boolean ticket = false;
        for (Rule r : rules) {
            if (r.minFollowers >= 0 && followers < r.minFollowers) continue;
            if (r.retweet >= 0 && rt != (r.retweet == 1)) continue;
            if (r.langs != null && !r.langs.contains(lang)) continue;
            if (r.brands != null) {
                boolean ok = false;
                for (int b : r.brands) ok |= brandHit[b];
                if (!ok) continue;
            }
            if (p.eval(r.root)) {
                rl.add(r.id);
                ticket |= r.polarity.equals("complaint") || r.polarity.equals("question");
            }
        }
        if (bl.size() > 0) {
            /* Key: route|post id; the id becomes the output key, as earshot's. */
            String s = ev.toString(), id = ev.get("id").asText();
            out.add(KeyValue.pair("enriched|" + id, s));
            if (ticket) out.add(KeyValue.pair("tickets|" + id, s));
        }
        return out;
    }

    static long findFollowers(JsonNode doc) {
        String author = doc.path("data").path("author_id").asText("");
        for (JsonNode u : doc.path("includes").path("users"))
            if (u.path("id").asText("").equals(author))
                return u.path("public_metrics").path("followers_count").asLong(0);
        return 0;
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 6) {
            System.err.println("usage: ClassifyApp BOOTSTRAP INPUT PREFIX RULES_DIR APP_ID THREADS");
            System.exit(2);
        }
        String prefix = args[2];
        ClassifyApp app = new ClassifyApp(args[3]);
        System.err.printf("streams peer: %d rules, %d brands, %d terms%n",
                          app.rules.size(), app.brands.size(), app.terms.size());

        Properties props = new Properties();
        props.put(StreamsConfig.APPLICATION_ID_CONFIG, args[4]);
        props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, args[0]);
        props.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, Integer.parseInt(args[5]));
        props.put(StreamsConfig.DEFAULT_KEY_SERDE_CLASS_CONFIG, Serdes.ByteArray().getClass());
        props.put(StreamsConfig.DEFAULT_VALUE_SERDE_CLASS_CONFIG, Serdes.String().getClass());
        props.put(StreamsConfig.consumerPrefix(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG), "earliest");
        /* Commit often: bench/e2e.py reads progress from the committed offsets. */
        props.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, 100);
        props.put(StreamsConfig.STATE_DIR_CONFIG,
                  System.getProperty("java.io.tmpdir") + "/earshot-streams-" + args[4]);

        StreamsBuilder sb = new StreamsBuilder();
        KStream<byte[], String> in = sb.stream(args[1], Consumed.with(Serdes.ByteArray(), Serdes.String()));
        KStream<String, String> routed = in.flatMap((k, v) -> app.classify(v));
        for (String route : new String[] {"enriched", "tickets", "rejected"})
            routed.filter((r, v) -> r.startsWith(route + "|"))
                  .map((r, v) -> KeyValue.pair(r.substring(r.indexOf('|') + 1), v))
                  .to(prefix + "." + route, Produced.with(Serdes.String(), Serdes.String()));

        KafkaStreams streams = new KafkaStreams(sb.build(), props);
        /* bench/e2e.py starts its clock here, as at earshot's "assigned" line. */
        streams.setStateListener((now, before) -> {
            if (now == KafkaStreams.State.RUNNING)
                System.err.println("streams peer: RUNNING");
        });
        CountDownLatch done = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            streams.close();
            done.countDown();
        }));
        streams.start();
        done.await();
    }
}
