// Runs PMD's Apex rules over the package and prints one line per violation (FILE:LINE: Rule: message).
// Launched as a single-file Java program against the PMD jars that @salesforce/code-analyzer-pmd-engine ships
// (npm), so CI needs neither Maven Central nor a GitHub download:
//   java -cp 'node_modules/@salesforce/code-analyzer-pmd-engine/dist/java-lib/*' tools/PmdApex.java \
//        category/apex/security.xml,category/apex/performance.xml force-app
// Exit status: 0 when clean, 1 when any rule reports, 2 when a file fails to parse or PMD itself fails.
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import net.sourceforge.pmd.PMDConfiguration;
import net.sourceforge.pmd.PmdAnalysis;
import net.sourceforge.pmd.lang.rule.RulePriority;
import net.sourceforge.pmd.reporting.Report;
import net.sourceforge.pmd.reporting.RuleViolation;

public class PmdApex {
    public static void main(String[] args) throws Exception {
        if (args.length < 2) {
            System.err.println("usage: PmdApex RULESETS PATH...");
            System.exit(2);
        }
        PMDConfiguration config = new PMDConfiguration();
        config.setMinimumPriority(RulePriority.LOW);
        for (String ruleset : args[0].split(",")) {
            config.addRuleSet(ruleset);
        }
        for (int i = 1; i < args.length; i++) {
            config.addInputPath(Path.of(args[i]));
        }
        Report report;
        try (PmdAnalysis analysis = PmdAnalysis.create(config)) {
            if (analysis.getRulesets().isEmpty()) {
                System.err.println("PmdApex: no rules loaded from " + args[0]);
                System.exit(2);
            }
            report = analysis.performAnalysisAndCollectReport();
        }
        int status = 0;
        for (Report.ProcessingError error : report.getProcessingErrors()) {
            System.out.println(error.getFileId().getOriginalPath() + ": parse error: " + error.getMsg());
            status = 2;
        }
        for (Report.ConfigurationError error : report.getConfigurationErrors()) {
            System.out.println("configuration error: " + error.issue());
            status = 2;
        }
        List<RuleViolation> violations = report.getViolations().stream()
            .sorted(Comparator.comparing((RuleViolation v) -> v.getFileId().getOriginalPath())
                .thenComparingInt(RuleViolation::getBeginLine))
            .toList();
        for (RuleViolation v : violations) {
            System.out.println(v.getFileId().getOriginalPath() + ":" + v.getBeginLine() + ": "
                + v.getRule().getName() + ": " + v.getDescription());
        }
        System.out.println(violations.size() + " violation(s), " + report.getSuppressedViolations().size()
            + " suppressed");
        if (status == 0 && !violations.isEmpty()) {
            status = 1;
        }
        System.exit(status);
    }
}
