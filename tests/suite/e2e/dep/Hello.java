package dep;

/** Loaded by a driver from the cluster's dependencies. */
public final class Hello {
    public static String hi() {
        return "HELLO";
    }
}
