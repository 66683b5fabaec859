package relay

// DrainPipePool is drainPipePool for the external tests.
var DrainPipePool = drainPipePool

// OpenFDs is openFDs for the external tests.
var OpenFDs = openFDs
