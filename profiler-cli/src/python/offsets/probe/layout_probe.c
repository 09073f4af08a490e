/* Prints the struct offsets leakspy's table holds, as `name value` lines,
 * for the CPython whose headers it is compiled against. Test-only: the
 * `table_matches_the_interpreter_headers` test builds it for each pyenv
 * interpreter and compares its output with `layout_for`. By hand:
 *
 *   P=$(pyenv root)/versions/3.12.1/include/python3.12
 *   gcc -DPy_BUILD_CORE -I$P -I$P/internal layout_probe.c -o probe && ./probe
 */
#define Py_BUILD_CORE 1
#include <Python.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#if PY_VERSION_HEX < 0x030B0000
#include <code.h>
#include <frameobject.h>
#else
#include <internal/pycore_code.h>
#include <internal/pycore_frame.h>
#endif
#include <internal/pycore_interp.h>
#include <internal/pycore_runtime.h>

#define SHOW(name, value) printf("%s %lu\n", name, (unsigned long)(value))

/* The bit position of a one-bit or multi-bit field of PyASCIIObject.state:
 * set it to all ones in a zeroed object and find the lowest bit set. */
#define STATE_SHIFT(field, ones)                                       \
    do {                                                               \
        PyASCIIObject object;                                          \
        unsigned int word;                                             \
        memset(&object, 0, sizeof object);                             \
        object.state.field = ones;                                     \
        memcpy(&word, &object.state, sizeof word);                     \
        SHOW("unicode.state." #field "_shift", __builtin_ctz(word));   \
    } while (0)

int main(void) {
    SHOW("version", PY_VERSION_HEX);
    SHOW("runtime.interpreters_head", offsetof(_PyRuntimeState, interpreters.head));
    SHOW("runtime.finalizing", offsetof(_PyRuntimeState, _finalizing));
    SHOW("runtime.initialized", offsetof(_PyRuntimeState, initialized));
    SHOW("runtime.interpreters_main", offsetof(_PyRuntimeState, interpreters.main));
    SHOW("interpreter.next", offsetof(PyInterpreterState, next));
#if PY_VERSION_HEX < 0x030B0000
    SHOW("interpreter.threads_head", offsetof(PyInterpreterState, tstate_head));
#else
    SHOW("interpreter.threads_head", offsetof(PyInterpreterState, threads.head));
#endif
    SHOW("interpreter.gc", offsetof(PyInterpreterState, gc));
    SHOW("gc.generations", offsetof(struct _gc_runtime_state, generations));
    SHOW("gc.generation_size", sizeof(struct gc_generation));
    SHOW("gc.generation_threshold", offsetof(struct gc_generation, threshold));
    SHOW("gc.generation_count", offsetof(struct gc_generation, count));
    SHOW("gc.collecting", offsetof(struct _gc_runtime_state, collecting));
    SHOW("gc.stats_before_collecting", offsetof(struct _gc_runtime_state, collecting)
         - offsetof(struct _gc_runtime_state, generation_stats));
    SHOW("gc.long_lived_total_after_collecting",
         offsetof(struct _gc_runtime_state, long_lived_total)
         - offsetof(struct _gc_runtime_state, collecting));

    SHOW("thread.next", offsetof(PyThreadState, next));
    SHOW("thread.thread_id", offsetof(PyThreadState, thread_id));
#if PY_VERSION_HEX >= 0x030B0000
    SHOW("thread.native_thread_id", offsetof(PyThreadState, native_thread_id));
#endif

#if PY_VERSION_HEX < 0x030B0000
    SHOW("thread.frame", offsetof(PyThreadState, frame));
    SHOW("frame.previous", offsetof(PyFrameObject, f_back));
    SHOW("frame.code", offsetof(PyFrameObject, f_code));
    SHOW("frame.instruction", offsetof(PyFrameObject, f_lasti));
#elif PY_VERSION_HEX < 0x030D0000
    SHOW("thread.frame", offsetof(PyThreadState, cframe));
    SHOW("cframe.current_frame", offsetof(_PyCFrame, current_frame));
    SHOW("frame.previous", offsetof(_PyInterpreterFrame, previous));
    SHOW("frame.code", offsetof(_PyInterpreterFrame, f_code));
    SHOW("frame.instruction", offsetof(_PyInterpreterFrame, prev_instr));
    SHOW("frame.owner", offsetof(_PyInterpreterFrame, owner));
#else
    SHOW("thread.frame", offsetof(PyThreadState, current_frame));
    SHOW("frame.previous", offsetof(_PyInterpreterFrame, previous));
    SHOW("frame.code", offsetof(_PyInterpreterFrame, f_executable));
    SHOW("frame.instruction", offsetof(_PyInterpreterFrame, instr_ptr));
    SHOW("frame.owner", offsetof(_PyInterpreterFrame, owner));
#endif
#if PY_VERSION_HEX >= 0x030C0000
    SHOW("frame.owner_shim", FRAME_OWNED_BY_CSTACK);
#endif

    SHOW("code.filename", offsetof(PyCodeObject, co_filename));
    SHOW("code.name", offsetof(PyCodeObject, co_name));
    SHOW("code.firstlineno", offsetof(PyCodeObject, co_firstlineno));
#if PY_VERSION_HEX < 0x030A0000
    SHOW("code.line_table", offsetof(PyCodeObject, co_lnotab));
#else
    SHOW("code.line_table", offsetof(PyCodeObject, co_linetable));
#endif
#if PY_VERSION_HEX < 0x030B0000
    SHOW("code.code", offsetof(PyCodeObject, co_code));
#else
    SHOW("code.qualname", offsetof(PyCodeObject, co_qualname));
    SHOW("code.code_adaptive", offsetof(PyCodeObject, co_code_adaptive));
#endif

    SHOW("unicode.length", offsetof(PyASCIIObject, length));
    SHOW("unicode.state", offsetof(PyASCIIObject, state));
    SHOW("unicode.ascii_data", sizeof(PyASCIIObject));
    SHOW("unicode.compact_data", sizeof(PyCompactUnicodeObject));
    SHOW("unicode.legacy_data", offsetof(PyUnicodeObject, data));
    STATE_SHIFT(kind, 7);
    STATE_SHIFT(compact, 1);
    STATE_SHIFT(ascii, 1);

    SHOW("bytes.ob_size", offsetof(PyBytesObject, ob_base.ob_size));
    SHOW("bytes.ob_sval", offsetof(PyBytesObject, ob_sval));

#if PY_VERSION_HEX >= 0x030D0000
    SHOW("debug.version", offsetof(_Py_DebugOffsets, version));
    SHOW("debug.free_threaded", offsetof(_Py_DebugOffsets, free_threaded));
    SHOW("debug.runtime_state.interpreters_head", offsetof(_Py_DebugOffsets, runtime_state.interpreters_head));
    SHOW("debug.runtime_state.finalizing", offsetof(_Py_DebugOffsets, runtime_state.finalizing));
    SHOW("debug.interpreter_state.next", offsetof(_Py_DebugOffsets, interpreter_state.next));
    SHOW("debug.interpreter_state.threads_head", offsetof(_Py_DebugOffsets, interpreter_state.threads_head));
    SHOW("debug.interpreter_state.gc", offsetof(_Py_DebugOffsets, interpreter_state.gc));
    SHOW("debug.thread_state.next", offsetof(_Py_DebugOffsets, thread_state.next));
    SHOW("debug.thread_state.current_frame", offsetof(_Py_DebugOffsets, thread_state.current_frame));
    SHOW("debug.thread_state.thread_id", offsetof(_Py_DebugOffsets, thread_state.thread_id));
    SHOW("debug.thread_state.native_thread_id", offsetof(_Py_DebugOffsets, thread_state.native_thread_id));
    SHOW("debug.interpreter_frame.previous", offsetof(_Py_DebugOffsets, interpreter_frame.previous));
    SHOW("debug.interpreter_frame.executable", offsetof(_Py_DebugOffsets, interpreter_frame.executable));
    SHOW("debug.interpreter_frame.instr_ptr", offsetof(_Py_DebugOffsets, interpreter_frame.instr_ptr));
    SHOW("debug.interpreter_frame.owner", offsetof(_Py_DebugOffsets, interpreter_frame.owner));
    SHOW("debug.code_object.filename", offsetof(_Py_DebugOffsets, code_object.filename));
    SHOW("debug.code_object.name", offsetof(_Py_DebugOffsets, code_object.name));
    SHOW("debug.code_object.qualname", offsetof(_Py_DebugOffsets, code_object.qualname));
    SHOW("debug.code_object.linetable", offsetof(_Py_DebugOffsets, code_object.linetable));
    SHOW("debug.code_object.firstlineno", offsetof(_Py_DebugOffsets, code_object.firstlineno));
    SHOW("debug.code_object.co_code_adaptive", offsetof(_Py_DebugOffsets, code_object.co_code_adaptive));
    SHOW("debug.bytes_object.ob_size", offsetof(_Py_DebugOffsets, bytes_object.ob_size));
    SHOW("debug.bytes_object.ob_sval", offsetof(_Py_DebugOffsets, bytes_object.ob_sval));
    SHOW("debug.unicode_object.state", offsetof(_Py_DebugOffsets, unicode_object.state));
    SHOW("debug.unicode_object.length", offsetof(_Py_DebugOffsets, unicode_object.length));
    SHOW("debug.unicode_object.asciiobject_size", offsetof(_Py_DebugOffsets, unicode_object.asciiobject_size));
    SHOW("debug.gc.collecting", offsetof(_Py_DebugOffsets, gc.collecting));
#endif
    return 0;
}
