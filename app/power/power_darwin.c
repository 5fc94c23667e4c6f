//go:build darwin && cgo

// The C half of power_darwin.go: IOKit system power and screen-lock
// notices on a CFRunLoop. Kept out of the Go file's preamble because that
// file uses //export (cgo then allows only declarations there).

#include <stdint.h>
#include <CoreFoundation/CoreFoundation.h>
#include <IOKit/pwr_mgt/IOPMLib.h>
#include <IOKit/IOMessage.h>
#include "_cgo_export.h"

static io_connect_t uvt_root = MACH_PORT_NULL;
static IONotificationPortRef uvt_port = NULL;
static io_object_t uvt_notifier = 0;
static CFRunLoopRef uvt_loop = NULL;
static volatile int uvt_stopping = 0;

static void uvt_power_cb(void *ref, io_service_t svc, natural_t type, void *arg) {
	uvtPowerMessage((uintptr_t)ref, (unsigned int)type, (long)arg);
}

static void uvt_lock_cb(CFNotificationCenterRef c, void *ref, CFStringRef name, const void *obj, CFDictionaryRef info) {
	uvtScreenLock((uintptr_t)ref, CFStringCompare(name, CFSTR("com.apple.screenIsLocked"), 0) == kCFCompareEqualTo);
}

// uvt_run registers for system power and screen lock notices and runs this
// thread's run loop until uvt_stop. It returns -1 when registration fails.
int uvt_run(uintptr_t handle) {
	uvt_root = IORegisterForSystemPower((void *)handle, &uvt_port, uvt_power_cb, &uvt_notifier);
	if (uvt_root == MACH_PORT_NULL) {
		return -1;
	}
	uvt_loop = CFRunLoopGetCurrent();
	CFRunLoopAddSource(uvt_loop, IONotificationPortGetRunLoopSource(uvt_port), kCFRunLoopCommonModes);
	CFNotificationCenterRef dc = CFNotificationCenterGetDistributedCenter();
	CFNotificationCenterAddObserver(dc, (void *)handle, uvt_lock_cb, CFSTR("com.apple.screenIsLocked"), NULL, CFNotificationSuspensionBehaviorDeliverImmediately);
	CFNotificationCenterAddObserver(dc, (void *)handle, uvt_lock_cb, CFSTR("com.apple.screenIsUnlocked"), NULL, CFNotificationSuspensionBehaviorDeliverImmediately);
	uvt_stopping = 0;
	uvtReady(handle);
	// Run in slices, so a stop requested before the loop started still ends it.
	while (!uvt_stopping) {
		CFRunLoopRunInMode(kCFRunLoopDefaultMode, 1.0, false);
	}
	CFNotificationCenterRemoveEveryObserver(dc, (void *)handle);
	CFRunLoopRemoveSource(uvt_loop, IONotificationPortGetRunLoopSource(uvt_port), kCFRunLoopCommonModes);
	IODeregisterForSystemPower(&uvt_notifier);
	IOServiceClose(uvt_root);
	IONotificationPortDestroy(uvt_port);
	uvt_root = MACH_PORT_NULL;
	return 0;
}

void uvt_stop(void) {
	uvt_stopping = 1;
	if (uvt_loop != NULL) {
		CFRunLoopStop(uvt_loop);
	}
}

void uvt_allow(long id) {
	if (uvt_root != MACH_PORT_NULL) {
		IOAllowPowerChange(uvt_root, (intptr_t)id);
	}
}

unsigned int uvt_can_sleep(void) { return kIOMessageCanSystemSleep; }
unsigned int uvt_will_sleep(void) { return kIOMessageSystemWillSleep; }
unsigned int uvt_has_powered_on(void) { return kIOMessageSystemHasPoweredOn; }
