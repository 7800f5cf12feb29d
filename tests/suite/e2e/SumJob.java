import java.util.ArrayList;
import java.util.List;

import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;

/** Sums the squares of 1..n on the cluster's executors: the result is known in closed form. */
public final class SumJob {
    public static void main(String[] args) {
        int n = Integer.parseInt(args[0]);
        List<Long> numbers = new ArrayList<>();
        for (long i = 1; i <= n; i++) {
            numbers.add(i);
        }
        try (JavaSparkContext sc = new JavaSparkContext(new SparkConf().setAppName("sparkup-e2e"))) {
            long sum = sc.parallelize(numbers, 8).map(x -> x * x).reduce(Long::sum);
            System.out.println("RESULT " + sum);
        }
    }
}
