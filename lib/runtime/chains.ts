import "server-only";
// Every module that defines an execution chain, imported for its registration: a worker process can run
// only the chains whose modules it has loaded. Demos add their chain modules here.
import "@/lib/chains";
import "@/lib/data-load/chains";
import "@/lib/departments/chains";
