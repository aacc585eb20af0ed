/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * <ksalloc/ksproxy.h> against the Windows facts (the SDK's ks.h, ksproxy.h and strmif.h): field
 * offsets and sizes, constant values, GUIDs, vtable slots, and the HRESULT macros.
 *
 * The header already static-asserts every struct size. The offsets are listed again here, one
 * line per field, so that the Windows layout is written down in a form a reader can check
 * against the reference table line by line, and so that a wrong field order fails a test by
 * name rather than only a size.
 */
#include <ksalloc/ksproxy.h>

#include <check.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tests/lib/ksalloc-check.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#define ck_assert_offset(type, field, expected) ck_assert_uint_eq(offsetof(type, field), (expected))

/* HRESULTs are signed; compare their bit patterns with the hex numbers Windows documents. */
#define ck_assert_hr_eq(hr, expected) ck_assert_uint_eq((uint32_t)(hr), (uint32_t)(expected))

/* Windows x64: every vtable slot is one 8-byte function pointer. */
#define ck_assert_slot(vtbl, method, slot) ck_assert_uint_eq(offsetof(vtbl, method), 8u * (slot))

/* layouts */

START_TEST(test_windows_base_types_have_llp64_sizes)
{
	ck_assert_uint_eq(sizeof(BYTE), 1);
	ck_assert_uint_eq(sizeof(UCHAR), 1);
	ck_assert_uint_eq(sizeof(CHAR), 1);
	ck_assert_uint_eq(sizeof(BOOLEAN), 1);
	ck_assert_uint_eq(sizeof(WORD), 2);
	ck_assert_uint_eq(sizeof(USHORT), 2);
	ck_assert_uint_eq(sizeof(SHORT), 2);
	ck_assert_uint_eq(sizeof(INT), 4);
	ck_assert_uint_eq(sizeof(UINT), 4);
	ck_assert_uint_eq(sizeof(ULONG), 4);
	ck_assert_uint_eq(sizeof(LONG), 4);
	ck_assert_uint_eq(sizeof(DWORD), 4);
	ck_assert_uint_eq(sizeof(BOOL), 4);
	ck_assert_uint_eq(sizeof(HRESULT), 4);
	ck_assert_uint_eq(sizeof(LONGLONG), 8);
	ck_assert_uint_eq(sizeof(ULONGLONG), 8);
	ck_assert_uint_eq(sizeof(REFERENCE_TIME), 8);
	ck_assert_uint_eq(sizeof(HANDLE), 8);
	ck_assert_uint_eq(sizeof(PVOID), 8);
	ck_assert_uint_eq(sizeof(GUID), 16);
	ck_assert_uint_eq(_Alignof(GUID), 4);

	/* Signedness matters as much as width: FAILED() tests the sign of an HRESULT. */
	ck_assert((LONG)-1 < 0);
	ck_assert((HRESULT)-1 < 0);
	ck_assert((ULONG)-1 > 0);
	ck_assert((DWORD)-1 > 0);
	ck_assert((REFERENCE_TIME)-1 < 0);
}
END_TEST

START_TEST(test_enums_are_4_bytes_like_windows_c_enums)
{
	ck_assert_uint_eq(sizeof(KSALLOCATORMODE), 4);
	ck_assert_uint_eq(sizeof(PIPE_STATE), 4);
	ck_assert_uint_eq(sizeof(PIPE_ALLOCATOR_PLACE), 4);
	ck_assert_uint_eq(sizeof(KS_LogicalMemoryType), 4);
	ck_assert_uint_eq(sizeof(POOL_TYPE), 4);
}
END_TEST

START_TEST(test_ksallocator_framing_has_windows_offsets)
{
	ck_assert_offset(KSALLOCATOR_FRAMING, OptionsFlags, 0x00);
	ck_assert_offset(KSALLOCATOR_FRAMING, RequirementsFlags, 0x00);
	ck_assert_offset(KSALLOCATOR_FRAMING, PoolType, 0x04);
	ck_assert_offset(KSALLOCATOR_FRAMING, Frames, 0x08);
	ck_assert_offset(KSALLOCATOR_FRAMING, FrameSize, 0x0C);
	ck_assert_offset(KSALLOCATOR_FRAMING, FileAlignment, 0x10);
	ck_assert_offset(KSALLOCATOR_FRAMING, FramePitch, 0x10);
	ck_assert_offset(KSALLOCATOR_FRAMING, Reserved, 0x14);
	ck_assert_uint_eq(sizeof(KSALLOCATOR_FRAMING), 24);
	ck_assert_uint_eq(_Alignof(KSALLOCATOR_FRAMING), 4);
	/* User-mode headers keep PoolType a ULONG, not the POOL_TYPE enum. */
	ck_assert_uint_eq(sizeof(((KSALLOCATOR_FRAMING *)NULL)->PoolType), sizeof(ULONG));
}
END_TEST

START_TEST(test_ks_framing_range_has_windows_offsets)
{
	ck_assert_offset(KS_FRAMING_RANGE, MinFrameSize, 0);
	ck_assert_offset(KS_FRAMING_RANGE, MaxFrameSize, 4);
	ck_assert_offset(KS_FRAMING_RANGE, Stepping, 8);
	ck_assert_uint_eq(sizeof(KS_FRAMING_RANGE), 12);
}
END_TEST

START_TEST(test_ks_framing_range_weighted_has_windows_offsets)
{
	ck_assert_offset(KS_FRAMING_RANGE_WEIGHTED, Range, 0);
	ck_assert_offset(KS_FRAMING_RANGE_WEIGHTED, InPlaceWeight, 12);
	ck_assert_offset(KS_FRAMING_RANGE_WEIGHTED, NotInPlaceWeight, 16);
	ck_assert_uint_eq(sizeof(KS_FRAMING_RANGE_WEIGHTED), 20);
}
END_TEST

START_TEST(test_ks_compression_has_windows_offsets)
{
	ck_assert_offset(KS_COMPRESSION, RatioNumerator, 0);
	ck_assert_offset(KS_COMPRESSION, RatioDenominator, 4);
	ck_assert_offset(KS_COMPRESSION, RatioConstantMargin, 8);
	ck_assert_uint_eq(sizeof(KS_COMPRESSION), 12);
}
END_TEST

START_TEST(test_ks_framing_item_has_windows_offsets)
{
	ck_assert_offset(KS_FRAMING_ITEM, MemoryType, 0x00);
	ck_assert_offset(KS_FRAMING_ITEM, BusType, 0x10);
	ck_assert_offset(KS_FRAMING_ITEM, MemoryFlags, 0x20);
	ck_assert_offset(KS_FRAMING_ITEM, BusFlags, 0x24);
	ck_assert_offset(KS_FRAMING_ITEM, Flags, 0x28);
	ck_assert_offset(KS_FRAMING_ITEM, Frames, 0x2C);
	ck_assert_offset(KS_FRAMING_ITEM, FileAlignment, 0x30);
	ck_assert_offset(KS_FRAMING_ITEM, FramePitch, 0x30);
	ck_assert_offset(KS_FRAMING_ITEM, MemoryTypeWeight, 0x34);
	ck_assert_offset(KS_FRAMING_ITEM, PhysicalRange, 0x38);
	ck_assert_offset(KS_FRAMING_ITEM, FramingRange, 0x44);
	ck_assert_uint_eq(sizeof(KS_FRAMING_ITEM), 88);
	ck_assert_uint_eq(_Alignof(KS_FRAMING_ITEM), 4);
}
END_TEST

START_TEST(test_ksallocator_framing_ex_has_windows_offsets)
{
	ck_assert_offset(KSALLOCATOR_FRAMING_EX, CountItems, 0x00);
	ck_assert_offset(KSALLOCATOR_FRAMING_EX, PinFlags, 0x04);
	ck_assert_offset(KSALLOCATOR_FRAMING_EX, OutputCompression, 0x08);
	ck_assert_offset(KSALLOCATOR_FRAMING_EX, PinWeight, 0x14);
	ck_assert_offset(KSALLOCATOR_FRAMING_EX, FramingItem, 0x18);
	ck_assert_offset(KSALLOCATOR_FRAMING_EX, FramingItem[1], 0x18 + 88);
	ck_assert_uint_eq(sizeof(KSALLOCATOR_FRAMING_EX), 112);
}
END_TEST

START_TEST(test_ksstreamallocator_status_has_windows_offsets)
{
	ck_assert_offset(KSSTREAMALLOCATOR_STATUS, Framing, 0x00);
	ck_assert_offset(KSSTREAMALLOCATOR_STATUS, Framing.Frames, 0x08);
	ck_assert_offset(KSSTREAMALLOCATOR_STATUS, AllocatedFrames, 0x18);
	ck_assert_offset(KSSTREAMALLOCATOR_STATUS, Reserved, 0x1C);
	ck_assert_uint_eq(sizeof(KSSTREAMALLOCATOR_STATUS), 32);
}
END_TEST

START_TEST(test_ksstreamallocator_status_ex_has_windows_offsets)
{
	ck_assert_offset(KSSTREAMALLOCATOR_STATUS_EX, Framing, 0x00);
	ck_assert_offset(KSSTREAMALLOCATOR_STATUS_EX, AllocatedFrames, 0x70);
	ck_assert_offset(KSSTREAMALLOCATOR_STATUS_EX, Reserved, 0x74);
	ck_assert_uint_eq(sizeof(KSSTREAMALLOCATOR_STATUS_EX), 120);
}
END_TEST

START_TEST(test_kstime_has_windows_offsets)
{
	ck_assert_offset(KSTIME, Time, 0);
	ck_assert_offset(KSTIME, Numerator, 8);
	ck_assert_offset(KSTIME, Denominator, 12);
	ck_assert_uint_eq(sizeof(KSTIME), 16);
	ck_assert_uint_eq(sizeof(((KSTIME *)0)->Time), 8);
	ck_assert((((KSTIME){ .Time = -1 }).Time) < 0); /* LONGLONG: signed */
}
END_TEST

START_TEST(test_ksstream_header_has_windows_offsets)
{
	ck_assert_offset(KSSTREAM_HEADER, Size, 0);
	ck_assert_offset(KSSTREAM_HEADER, TypeSpecificFlags, 4);
	ck_assert_offset(KSSTREAM_HEADER, PresentationTime, 8);
	ck_assert_offset(KSSTREAM_HEADER, PresentationTime.Time, 8);
	ck_assert_offset(KSSTREAM_HEADER, PresentationTime.Numerator, 16);
	ck_assert_offset(KSSTREAM_HEADER, PresentationTime.Denominator, 20);
	ck_assert_offset(KSSTREAM_HEADER, Duration, 24);
	ck_assert_offset(KSSTREAM_HEADER, FrameExtent, 32);
	ck_assert_offset(KSSTREAM_HEADER, DataUsed, 36);
	ck_assert_offset(KSSTREAM_HEADER, Data, 40);
	ck_assert_offset(KSSTREAM_HEADER, OptionsFlags, 48);
	ck_assert_offset(KSSTREAM_HEADER, Reserved, 52);
	ck_assert_uint_eq(sizeof(KSSTREAM_HEADER), 56);
	ck_assert_uint_eq(_Alignof(KSSTREAM_HEADER), 8);
	/* Headers in one IRP are walked by Size: an array of them has no gaps. */
	ck_assert_uint_eq(sizeof(KSSTREAM_HEADER[2]), 112);
}
END_TEST

START_TEST(test_ksalloc_stream_options_layout)
{
	ck_assert_offset(KSALLOC_STREAM_OPTIONS, Policy, 0);
	ck_assert_offset(KSALLOC_STREAM_OPTIONS, Depth, 4);
	ck_assert_offset(KSALLOC_STREAM_OPTIONS, MaxHeld, 8);
	ck_assert_offset(KSALLOC_STREAM_OPTIONS, ReadOnly, 12);
	ck_assert_uint_eq(sizeof(KSALLOC_STREAM_OPTIONS), 16);
	ck_assert_uint_eq(sizeof(KSALLOC_STREAM_POLICY), 4);
}
END_TEST

START_TEST(test_pipe_dimensions_has_windows_offsets)
{
	ck_assert_offset(PIPE_DIMENSIONS, AllocatorPin, 0);
	ck_assert_offset(PIPE_DIMENSIONS, MaxExpansionPin, 12);
	ck_assert_offset(PIPE_DIMENSIONS, EndPin, 24);
	ck_assert_uint_eq(sizeof(PIPE_DIMENSIONS), 36);
}
END_TEST

START_TEST(test_pipe_termination_has_windows_offsets)
{
	ck_assert_offset(PIPE_TERMINATION, Flags, 0);
	ck_assert_offset(PIPE_TERMINATION, OutsideFactors, 4);
	ck_assert_offset(PIPE_TERMINATION, Weigth, 8);
	ck_assert_offset(PIPE_TERMINATION, PhysicalRange, 12);
	ck_assert_offset(PIPE_TERMINATION, OptimalRange, 24);
	ck_assert_offset(PIPE_TERMINATION, Compression, 44);
	ck_assert_uint_eq(sizeof(PIPE_TERMINATION), 56);
}
END_TEST

START_TEST(test_allocator_properties_has_windows_offsets)
{
	ck_assert_offset(ALLOCATOR_PROPERTIES, cBuffers, 0);
	ck_assert_offset(ALLOCATOR_PROPERTIES, cbBuffer, 4);
	ck_assert_offset(ALLOCATOR_PROPERTIES, cbAlign, 8);
	ck_assert_offset(ALLOCATOR_PROPERTIES, cbPrefix, 12);
	ck_assert_uint_eq(sizeof(ALLOCATOR_PROPERTIES), 16);
}
END_TEST

START_TEST(test_am_media_type_has_windows_offsets)
{
	ck_assert_offset(AM_MEDIA_TYPE, majortype, 0x00);
	ck_assert_offset(AM_MEDIA_TYPE, subtype, 0x10);
	ck_assert_offset(AM_MEDIA_TYPE, bFixedSizeSamples, 0x20);
	ck_assert_offset(AM_MEDIA_TYPE, bTemporalCompression, 0x24);
	ck_assert_offset(AM_MEDIA_TYPE, lSampleSize, 0x28);
	ck_assert_offset(AM_MEDIA_TYPE, formattype, 0x2C);
	/* 4 bytes of padding: pUnk is 8-byte aligned on x86-64 (at 0x3C on 32-bit Windows). */
	ck_assert_offset(AM_MEDIA_TYPE, pUnk, 0x40);
	ck_assert_offset(AM_MEDIA_TYPE, cbFormat, 0x48);
	/* 4 more bytes of padding before the second pointer. */
	ck_assert_offset(AM_MEDIA_TYPE, pbFormat, 0x50);
	ck_assert_uint_eq(sizeof(AM_MEDIA_TYPE), 88);
	ck_assert_uint_eq(_Alignof(AM_MEDIA_TYPE), 8);
}
END_TEST

START_TEST(test_allocator_properties_ex_has_windows_offsets)
{
	ck_assert_offset(ALLOCATOR_PROPERTIES_EX, cBuffers, 0x00);
	ck_assert_offset(ALLOCATOR_PROPERTIES_EX, cbBuffer, 0x04);
	ck_assert_offset(ALLOCATOR_PROPERTIES_EX, cbAlign, 0x08);
	ck_assert_offset(ALLOCATOR_PROPERTIES_EX, cbPrefix, 0x0C);
	ck_assert_offset(ALLOCATOR_PROPERTIES_EX, MemoryType, 0x10);
	ck_assert_offset(ALLOCATOR_PROPERTIES_EX, BusType, 0x20);
	ck_assert_offset(ALLOCATOR_PROPERTIES_EX, State, 0x30);
	ck_assert_offset(ALLOCATOR_PROPERTIES_EX, Input, 0x34);
	ck_assert_offset(ALLOCATOR_PROPERTIES_EX, Output, 0x6C);
	ck_assert_offset(ALLOCATOR_PROPERTIES_EX, Strategy, 0xA4);
	ck_assert_offset(ALLOCATOR_PROPERTIES_EX, Flags, 0xA8);
	ck_assert_offset(ALLOCATOR_PROPERTIES_EX, Weight, 0xAC);
	ck_assert_offset(ALLOCATOR_PROPERTIES_EX, LogicalMemoryType, 0xB0);
	ck_assert_offset(ALLOCATOR_PROPERTIES_EX, AllocatorPlace, 0xB4);
	ck_assert_offset(ALLOCATOR_PROPERTIES_EX, Dimensions, 0xB8);
	ck_assert_offset(ALLOCATOR_PROPERTIES_EX, PhysicalRange, 0xDC);
	ck_assert_offset(ALLOCATOR_PROPERTIES_EX, PrevSegment, 0xE8);
	ck_assert_offset(ALLOCATOR_PROPERTIES_EX, CountNextSegments, 0xF0);
	/* 4 bytes of padding at 0xF4 align the next pointer. */
	ck_assert_offset(ALLOCATOR_PROPERTIES_EX, NextSegments, 0xF8);
	ck_assert_offset(ALLOCATOR_PROPERTIES_EX, InsideFactors, 0x100);
	ck_assert_offset(ALLOCATOR_PROPERTIES_EX, NumberPins, 0x104);
	ck_assert_uint_eq(sizeof(ALLOCATOR_PROPERTIES_EX), 264);
	ck_assert_uint_eq(_Alignof(ALLOCATOR_PROPERTIES_EX), 8);
}
END_TEST

/* constants */

START_TEST(test_hresults_have_windows_values)
{
	ck_assert_hr_eq(S_OK, 0x00000000);
	ck_assert_hr_eq(NOERROR, 0x00000000);
	ck_assert_hr_eq(S_FALSE, 0x00000001);
	ck_assert_hr_eq(E_UNEXPECTED, 0x8000FFFF);
	ck_assert_hr_eq(E_NOTIMPL, 0x80004001);
	ck_assert_hr_eq(E_NOINTERFACE, 0x80004002);
	ck_assert_hr_eq(E_POINTER, 0x80004003);
	ck_assert_hr_eq(E_ABORT, 0x80004004);
	ck_assert_hr_eq(E_FAIL, 0x80004005);
	ck_assert_hr_eq(E_ACCESSDENIED, 0x80070005);
	ck_assert_hr_eq(E_HANDLE, 0x80070006);
	ck_assert_hr_eq(E_OUTOFMEMORY, 0x8007000E);
	ck_assert_hr_eq(E_INVALIDARG, 0x80070057);
	ck_assert_hr_eq(VFW_E_NO_ALLOCATOR, 0x8004020A);
	ck_assert_hr_eq(VFW_E_BUFFER_NOTSET, 0x8004020C);
	ck_assert_hr_eq(VFW_E_BUFFER_OVERFLOW, 0x8004020D);
	ck_assert_hr_eq(VFW_E_BADALIGN, 0x8004020E);
	ck_assert_hr_eq(VFW_E_ALREADY_COMMITTED, 0x8004020F);
	ck_assert_hr_eq(VFW_E_BUFFERS_OUTSTANDING, 0x80040210);
	ck_assert_hr_eq(VFW_E_NOT_COMMITTED, 0x80040211);
	ck_assert_hr_eq(VFW_E_SIZENOTSET, 0x80040212);
	ck_assert_hr_eq(VFW_E_NOT_STOPPED, 0x80040224);
	ck_assert_hr_eq(VFW_E_WRONG_STATE, 0x80040227);
	ck_assert_hr_eq(VFW_E_TIMEOUT, 0x8004022E);
	ck_assert_hr_eq(VFW_E_SAMPLE_TIME_NOT_SET, 0x80040249);
	ck_assert_hr_eq(VFW_E_MEDIA_TIME_NOT_SET, 0x80040251);
	ck_assert_hr_eq(VFW_S_NO_STOP_TIME, 0x00040270);
}
END_TEST

START_TEST(test_error_hresults_are_negative_32_bit_values)
{
	/* A constant that widened to 64 bits would compare as positive and defeat FAILED(). */
	ck_assert_uint_eq(sizeof(E_FAIL), 4);
	ck_assert_uint_eq(sizeof(VFW_E_TIMEOUT), 4);
	ck_assert_int_lt(E_FAIL, 0);
	ck_assert_int_lt(E_UNEXPECTED, 0);
	ck_assert_int_lt(VFW_E_NOT_COMMITTED, 0);
	ck_assert_int_eq(S_FALSE, 1);
}
END_TEST

START_TEST(test_win32_error_codes_have_windows_values)
{
	ck_assert_int_eq(ERROR_SUCCESS, 0);
	ck_assert_int_eq(ERROR_FILE_NOT_FOUND, 2);
	ck_assert_int_eq(ERROR_ACCESS_DENIED, 5);
	ck_assert_int_eq(ERROR_INVALID_HANDLE, 6);
	ck_assert_int_eq(ERROR_INVALID_DATA, 13);
	ck_assert_int_eq(ERROR_OUTOFMEMORY, 14);
	ck_assert_int_eq(ERROR_NOT_SAME_DEVICE, 17);
	ck_assert_int_eq(ERROR_NOT_SUPPORTED, 50);
	ck_assert_int_eq(ERROR_INVALID_PARAMETER, 87);
	ck_assert_int_eq(ERROR_BROKEN_PIPE, 109);
	ck_assert_int_eq(ERROR_ALREADY_EXISTS, 183);
	ck_assert_int_eq(ERROR_SERVICE_NOT_ACTIVE, 1062);
	ck_assert_int_eq(ERROR_TIMEOUT, 1460);
}
END_TEST

START_TEST(test_base_macros_have_windows_values)
{
	ck_assert_int_eq(TRUE, 1);
	ck_assert_int_eq(FALSE, 0);
	ck_assert_uint_eq(INFINITE, 0xFFFFFFFFu);
	ck_assert_uint_eq((uintptr_t)INVALID_HANDLE_VALUE, UINTPTR_MAX);
	ck_assert_ptr_ne(INVALID_HANDLE_VALUE, NULL);
}
END_TEST

START_TEST(test_requirement_and_option_flags_have_windows_values)
{
	ck_assert_uint_eq(KSALLOCATOR_REQUIREMENTF_INPLACE_MODIFIER, 0x1);
	ck_assert_uint_eq(KSALLOCATOR_REQUIREMENTF_SYSTEM_MEMORY, 0x2);
	ck_assert_uint_eq(KSALLOCATOR_REQUIREMENTF_FRAME_INTEGRITY, 0x4);
	ck_assert_uint_eq(KSALLOCATOR_REQUIREMENTF_MUST_ALLOCATE, 0x8);
	ck_assert_uint_eq(KSALLOCATOR_REQUIREMENTF_SYSTEM_MEMORY_CUSTOM_ALLOCATION, 0x10);
	ck_assert_uint_eq(KSALLOCATOR_REQUIREMENTF_PREFERENCES_ONLY, 0x80000000u);
	ck_assert_uint_eq(KSALLOCATOR_OPTIONF_COMPATIBLE, 0x1);
	ck_assert_uint_eq(KSALLOCATOR_OPTIONF_SYSTEM_MEMORY, 0x2);
	ck_assert_uint_eq(KSALLOCATOR_OPTIONF_VALID, 0x3);
}
END_TEST

START_TEST(test_stream_header_options_flags_have_windows_values)
{
	ck_assert_uint_eq(KSSTREAM_HEADER_OPTIONSF_SPLICEPOINT, 0x1);
	ck_assert_uint_eq(KSSTREAM_HEADER_OPTIONSF_PREROLL, 0x2);
	ck_assert_uint_eq(KSSTREAM_HEADER_OPTIONSF_DATADISCONTINUITY, 0x4);
	ck_assert_uint_eq(KSSTREAM_HEADER_OPTIONSF_TYPECHANGED, 0x8);
	ck_assert_uint_eq(KSSTREAM_HEADER_OPTIONSF_TIMEVALID, 0x10);
	ck_assert_uint_eq(KSSTREAM_HEADER_OPTIONSF_TIMEDISCONTINUITY, 0x40);
	ck_assert_uint_eq(KSSTREAM_HEADER_OPTIONSF_FLUSHONPAUSE, 0x80);
	ck_assert_uint_eq(KSSTREAM_HEADER_OPTIONSF_DURATIONVALID, 0x100);
	ck_assert_uint_eq(KSSTREAM_HEADER_OPTIONSF_ENDOFSTREAM, 0x200);
	ck_assert_uint_eq(KSSTREAM_HEADER_OPTIONSF_BUFFEREDTRANSFER, 0x400);
	ck_assert_uint_eq(KSSTREAM_HEADER_OPTIONSF_VRAM_DATA_TRANSFER, 0x800);
	ck_assert_uint_eq(KSSTREAM_HEADER_OPTIONSF_METADATA, 0x1000);
	ck_assert_uint_eq(KSSTREAM_HEADER_OPTIONSF_ENDOFPHOTOSEQUENCE, 0x2000);
	ck_assert_uint_eq(KSSTREAM_HEADER_OPTIONSF_FRAMEINFO, 0x4000);
	ck_assert_uint_eq(KSSTREAM_HEADER_OPTIONSF_PERSIST_SAMPLE, 0x8000);
	ck_assert_uint_eq(KSSTREAM_HEADER_OPTIONSF_SAMPLE_PERSISTED, 0x10000);
	ck_assert_uint_eq(KSSTREAM_HEADER_TRACK_COMPLETION_NUMBERS, 0x20000);
	ck_assert_uint_eq(KSSTREAM_HEADER_OPTIONSF_SECUREBUFFERTRANSFER, 0x40000);
	ck_assert_uint_eq(KSSTREAM_HEADER_OPTIONSF_LOOPEDDATA, 0x80000000u);
	/* The flag word holds the top bit without sign trouble. */
	ck_assert_uint_eq((KSSTREAM_HEADER){ .OptionsFlags = KSSTREAM_HEADER_OPTIONSF_LOOPEDDATA }
				  .OptionsFlags,
			  0x80000000u);
}
END_TEST

START_TEST(test_stream_policies_have_their_documented_values)
{
	ck_assert_int_eq(KsStreamPolicy_Block, 0);
	ck_assert_int_eq(KsStreamPolicy_DropNewest, 1);
	ck_assert_int_eq(KsStreamPolicy_DropOldest, 2);
	ck_assert_int_eq(KsStreamPolicy_Latest, 3);
}
END_TEST

START_TEST(test_pipe_flags_have_windows_values)
{
	ck_assert_uint_eq(KSALLOCATOR_FLAG_PARTIAL_READ_SUPPORT, 0x10);
	ck_assert_uint_eq(KSALLOCATOR_FLAG_DEVICE_SPECIFIC, 0x20);
	ck_assert_uint_eq(KSALLOCATOR_FLAG_CAN_ALLOCATE, 0x40);
	ck_assert_uint_eq(KSALLOCATOR_FLAG_INSIST_ON_FRAMESIZE_RATIO, 0x80);
	ck_assert_uint_eq(KSALLOCATOR_FLAG_NO_FRAME_INTEGRITY, 0x100);
	ck_assert_uint_eq(KSALLOCATOR_FLAG_MULTIPLE_OUTPUT, 0x200);
	ck_assert_uint_eq(KSALLOCATOR_FLAG_CYCLE, 0x400);
	ck_assert_uint_eq(KSALLOCATOR_FLAG_ALLOCATOR_EXISTS, 0x800);
	ck_assert_uint_eq(KSALLOCATOR_FLAG_INDEPENDENT_RANGES, 0x1000);
	ck_assert_uint_eq(KSALLOCATOR_FLAG_ATTENTION_STEPPING, 0x2000);
	ck_assert_uint_eq(KSALLOCATOR_FLAG_ENABLE_CACHED_MDL, 0x4000);
	ck_assert_uint_eq(KSALLOCATOR_FLAG_2D_BUFFER_REQUIRED, 0x8000);

	ck_assert_uint_eq(AllocatorStrategy_DontCare, 0);
	ck_assert_uint_eq(AllocatorStrategy_MinimizeNumberOfFrames, 1);
	ck_assert_uint_eq(AllocatorStrategy_MinimizeFrameSize, 2);
	ck_assert_uint_eq(AllocatorStrategy_MinimizeNumberOfAllocators, 4);
	ck_assert_uint_eq(AllocatorStrategy_MaximizeSpeed, 8);

	ck_assert_uint_eq(PipeFactor_None, 0);
	ck_assert_uint_eq(PipeFactor_UserModeUpstream, 0x1);
	ck_assert_uint_eq(PipeFactor_UserModeDownstream, 0x2);
	ck_assert_uint_eq(PipeFactor_MemoryTypes, 0x4);
	ck_assert_uint_eq(PipeFactor_Flags, 0x8);
	ck_assert_uint_eq(PipeFactor_PhysicalRanges, 0x10);
	ck_assert_uint_eq(PipeFactor_OptimalRanges, 0x20);
	ck_assert_uint_eq(PipeFactor_FixedCompression, 0x40);
	ck_assert_uint_eq(PipeFactor_UnknownCompression, 0x80);
	ck_assert_uint_eq(PipeFactor_Buffers, 0x100);
	ck_assert_uint_eq(PipeFactor_Align, 0x200);
	ck_assert_uint_eq(PipeFactor_PhysicalEnd, 0x400);
	ck_assert_uint_eq(PipeFactor_LogicalEnd, 0x800);
}
END_TEST

START_TEST(test_file_alignment_values_are_masks)
{
	ck_assert_uint_eq(FILE_BYTE_ALIGNMENT, 0x0);
	ck_assert_uint_eq(FILE_WORD_ALIGNMENT, 0x1);
	ck_assert_uint_eq(FILE_LONG_ALIGNMENT, 0x3);
	ck_assert_uint_eq(FILE_QUAD_ALIGNMENT, 0x7);
	ck_assert_uint_eq(FILE_OCTA_ALIGNMENT, 0xF);
	ck_assert_uint_eq(FILE_32_BYTE_ALIGNMENT, 0x1F);
	ck_assert_uint_eq(FILE_64_BYTE_ALIGNMENT, 0x3F);
	ck_assert_uint_eq(FILE_128_BYTE_ALIGNMENT, 0x7F);
	ck_assert_uint_eq(FILE_256_BYTE_ALIGNMENT, 0xFF);
	ck_assert_uint_eq(FILE_512_BYTE_ALIGNMENT, 0x1FF);
}
END_TEST

START_TEST(test_enum_values_match_windows)
{
	ck_assert_int_eq(KsAllocatorMode_User, 0);
	ck_assert_int_eq(KsAllocatorMode_Kernel, 1);

	ck_assert_int_eq(PipeState_DontCare, 0);
	ck_assert_int_eq(PipeState_RangeNotFixed, 1);
	ck_assert_int_eq(PipeState_RangeFixed, 2);
	ck_assert_int_eq(PipeState_CompressionUnknown, 3);
	ck_assert_int_eq(PipeState_Finalized, 4);

	ck_assert_int_eq(Pipe_Allocator_None, 0);
	ck_assert_int_eq(Pipe_Allocator_FirstPin, 1);
	ck_assert_int_eq(Pipe_Allocator_LastPin, 2);
	ck_assert_int_eq(Pipe_Allocator_MiddlePin, 3);

	ck_assert_int_eq(KS_MemoryTypeDontCare, 0);
	ck_assert_int_eq(KS_MemoryTypeKernelPaged, 1);
	ck_assert_int_eq(KS_MemoryTypeKernelNonPaged, 2);
	ck_assert_int_eq(KS_MemoryTypeDeviceHostMapped, 3);
	ck_assert_int_eq(KS_MemoryTypeDeviceSpecific, 4);
	ck_assert_int_eq(KS_MemoryTypeUser, 5);
	ck_assert_int_eq(KS_MemoryTypeAnyHost, 6);
}
END_TEST

START_TEST(test_pool_types_match_wdm)
{
	ck_assert_int_eq(NonPagedPool, 0);
	ck_assert_int_eq(PagedPool, 1);
	ck_assert_int_eq(NonPagedPoolMustSucceed, 2);
	ck_assert_int_eq(DontUseThisType, 3);
	ck_assert_int_eq(NonPagedPoolCacheAligned, 4);
	ck_assert_int_eq(PagedPoolCacheAligned, 5);
	ck_assert_int_eq(NonPagedPoolCacheAlignedMustS, 6);
	ck_assert_int_eq(MaxPoolType, 7);
	ck_assert_int_eq(NonPagedPoolSession, 32);
	ck_assert_int_eq(PagedPoolSession, 33);
	ck_assert_int_eq(NonPagedPoolMustSucceedSession, 34);
	ck_assert_int_eq(DontUseThisTypeSession, 35);
	ck_assert_int_eq(NonPagedPoolCacheAlignedSession, 36);
	ck_assert_int_eq(PagedPoolCacheAlignedSession, 37);
	ck_assert_int_eq(NonPagedPoolCacheAlignedMustSSession, 38);
	ck_assert_int_eq(NonPagedPoolNx, 512);
	ck_assert_int_eq(NonPagedPoolNxCacheAligned, 516);
}
END_TEST

START_TEST(test_property_method_and_event_ids_match_windows)
{
	ck_assert_int_eq(KSPROPERTY_STREAMALLOCATOR_FUNCTIONTABLE, 0);
	ck_assert_int_eq(KSPROPERTY_STREAMALLOCATOR_STATUS, 1);
	ck_assert_int_eq(KSMETHOD_STREAMALLOCATOR_ALLOC, 0);
	ck_assert_int_eq(KSMETHOD_STREAMALLOCATOR_FREE, 1);
	ck_assert_int_eq(KSEVENT_STREAMALLOCATOR_INTERNAL_FREEFRAME, 0);
	ck_assert_int_eq(KSEVENT_STREAMALLOCATOR_FREEFRAME, 1);
	ck_assert_int_eq(KSPROPERTY_STREAM_ALLOCATOR, 0);
	ck_assert_int_eq(KSPROPERTY_CONNECTION_ALLOCATORFRAMING, 3);
	ck_assert_int_eq(KSPROPERTY_CONNECTION_ALLOCATORFRAMING_EX, 6);
	ck_assert_uint_eq(KSPROPERTY_TYPE_GET, 1);
	ck_assert_uint_eq(KSPROPERTY_TYPE_SET, 2);
	ck_assert_uint_eq(KSMETHOD_TYPE_READ, 1);
	ck_assert_uint_eq(KSMETHOD_TYPE_WRITE, 2);
}
END_TEST

START_TEST(test_getbuffer_flags_match_windows)
{
	ck_assert_uint_eq(AM_GBF_PREVFRAMESKIPPED, 1);
	ck_assert_uint_eq(AM_GBF_NOTASYNCPOINT, 2);
	ck_assert_uint_eq(AM_GBF_NOWAIT, 4);
	ck_assert_uint_eq(AM_GBF_NODDSURFACELOCK, 8);
}
END_TEST

/* guids */

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static bool parse_hex(const char *text, size_t digits, uint32_t *ret_value)
{
	uint32_t value = 0;

	for (size_t i = 0; i < digits; i++) {
		int d = hex_digit(text[i]);

		if (d < 0)
			return false;
		value = value << 4 | (uint32_t)d;
	}
	*ret_value = value;
	return true;
}

/*
 * Reads the registry format "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" (no braces) into a GUID.
 * The fourth group is the first two bytes of Data4, the fifth its remaining six.
 */
static bool guid_from_string(const char *text, GUID *ret_guid)
{
	GUID guid;
	uint32_t v;

	if (strlen(text) != 36 || text[8] != '-' || text[13] != '-' || text[18] != '-' ||
	    text[23] != '-')
		return false;

	if (!parse_hex(text, 8, &v))
		return false;
	guid.Data1 = v;
	if (!parse_hex(text + 9, 4, &v))
		return false;
	guid.Data2 = (uint16_t)v;
	if (!parse_hex(text + 14, 4, &v))
		return false;
	guid.Data3 = (uint16_t)v;
	for (size_t i = 0; i < 8; i++) {
		/* Bytes 0-1 start at 19, bytes 2-7 at 24, after the fourth dash. */
		size_t at = i < 2 ? 19 + 2 * i : 24 + 2 * (i - 2);

		if (!parse_hex(text + at, 2, &v))
			return false;
		guid.Data4[i] = (uint8_t)v;
	}
	*ret_guid = guid;
	return true;
}

struct named_guid {
	const char *name;
	const GUID *exported; /* the symbol libksalloc exports */
	GUID from_static;     /* the header's STATIC_ initializer */
	const char *registry; /* the value the Windows SDK defines */
};

static const struct named_guid named_guids[] = {
	{ "GUID_NULL", &GUID_NULL, STATIC_GUID_NULL, "00000000-0000-0000-0000-000000000000" },
	{ "KSMEMORY_TYPE_SYSTEM", &KSMEMORY_TYPE_SYSTEM, STATIC_KSMEMORY_TYPE_SYSTEM,
	  "091bb638-603f-11d1-b067-00a0c9062802" },
	{ "KSMEMORY_TYPE_USER", &KSMEMORY_TYPE_USER, STATIC_KSMEMORY_TYPE_USER,
	  "8cb0fc28-7893-11d1-b069-00a0c9062802" },
	{ "KSMEMORY_TYPE_KERNEL_PAGED", &KSMEMORY_TYPE_KERNEL_PAGED,
	  STATIC_KSMEMORY_TYPE_KERNEL_PAGED, "d833f8f8-7894-11d1-b069-00a0c9062802" },
	{ "KSMEMORY_TYPE_KERNEL_NONPAGED", &KSMEMORY_TYPE_KERNEL_NONPAGED,
	  STATIC_KSMEMORY_TYPE_KERNEL_NONPAGED, "4a6d5fc4-7895-11d1-b069-00a0c9062802" },
	{ "KSMEMORY_TYPE_DEVICE_UNKNOWN", &KSMEMORY_TYPE_DEVICE_UNKNOWN,
	  STATIC_KSMEMORY_TYPE_DEVICE_UNKNOWN, "091bb639-603f-11d1-b067-00a0c9062802" },
	{ "KSPROPSETID_StreamAllocator", &KSPROPSETID_StreamAllocator,
	  STATIC_KSPROPSETID_StreamAllocator, "cf6e4342-ec87-11cf-a130-0020afd156e4" },
	{ "KSMETHODSETID_StreamAllocator", &KSMETHODSETID_StreamAllocator,
	  STATIC_KSMETHODSETID_StreamAllocator, "cf6e4341-ec87-11cf-a130-0020afd156e4" },
	{ "KSEVENTSETID_StreamAllocator", &KSEVENTSETID_StreamAllocator,
	  STATIC_KSEVENTSETID_StreamAllocator, "75d95571-073c-11d0-a161-0020afd156e4" },
	{ "KSPROPSETID_Stream", &KSPROPSETID_Stream, STATIC_KSPROPSETID_Stream,
	  "65aaba60-98ae-11cf-a10d-0020afd156e4" },
	{ "KSPROPSETID_Connection", &KSPROPSETID_Connection, STATIC_KSPROPSETID_Connection,
	  "1d58c920-ac9b-11cf-a5d6-28db04c10000" },
	{ "KSNAME_Allocator", &KSNAME_Allocator, STATIC_KSNAME_Allocator,
	  "642f5d00-4791-11d0-a5d6-28db04c10000" },
	{ "IID_IUnknown", &IID_IUnknown, STATIC_IID_IUnknown,
	  "00000000-0000-0000-c000-000000000046" },
	{ "IID_IMemAllocator", &IID_IMemAllocator, STATIC_IID_IMemAllocator,
	  "56a8689c-0ad4-11ce-b03a-0020af0ba770" },
	{ "IID_IMediaSample", &IID_IMediaSample, STATIC_IID_IMediaSample,
	  "56a8689a-0ad4-11ce-b03a-0020af0ba770" },
	{ "IID_IMediaSample2", &IID_IMediaSample2, STATIC_IID_IMediaSample2,
	  "36b73884-c2c8-11cf-8b46-00805f6cef60" },
	{ "IID_IMemAllocatorCallbackTemp", &IID_IMemAllocatorCallbackTemp,
	  STATIC_IID_IMemAllocatorCallbackTemp, "379a0cf0-c1de-11d2-abf5-00a0c905f375" },
	{ "IID_IMemAllocatorNotifyCallbackTemp", &IID_IMemAllocatorNotifyCallbackTemp,
	  STATIC_IID_IMemAllocatorNotifyCallbackTemp, "92980b30-c1de-11d2-abf5-00a0c905f375" },
	{ "IID_IKsAllocator", &IID_IKsAllocator, STATIC_IID_IKsAllocator,
	  "8da64899-c0d9-11d0-8413-0000f822fe8a" },
	{ "IID_IKsAllocatorEx", &IID_IKsAllocatorEx, STATIC_IID_IKsAllocatorEx,
	  "091bb63a-603f-11d1-b067-00a0c9062802" },
	{ "IID_IKsPin", &IID_IKsPin, STATIC_IID_IKsPin, "b61178d1-a2d9-11cf-9e53-00aa00a216a1" },
	{ "IID_IKsObject", &IID_IKsObject, STATIC_IID_IKsObject,
	  "423c13a2-2070-11d0-9ef7-00aa00a216a1" },
	{ "CLSID_MemoryAllocator", &CLSID_MemoryAllocator, STATIC_CLSID_MemoryAllocator,
	  "1e651cc0-b199-11d0-8212-00c04fc32c45" },
};

START_TEST(test_guid_parser_reads_registry_format)
{
	static const GUID iunknown = {
		0x00000000, 0x0000, 0x0000, { 0xc0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x46 }
	};
	GUID parsed;

	ck_assert(guid_from_string("00000000-0000-0000-C000-000000000046", &parsed));
	ck_assert(IsEqualGUID(&parsed, &iunknown));

	ck_assert(!guid_from_string("00000000-0000-0000-c000-00000000004", &parsed));
	ck_assert(!guid_from_string("00000000-0000-0000-c000-0000000000466", &parsed));
	ck_assert(!guid_from_string("00000000-0000-0000-c0000-00000000046", &parsed));
	ck_assert(!guid_from_string("0000000g-0000-0000-c000-000000000046", &parsed));
	ck_assert(!guid_from_string("{0000000-0000-0000-c000-000000000046}", &parsed));
}
END_TEST

START_TEST(test_named_guid_matches_registry_string)
{
	const struct named_guid *g = &named_guids[_i];
	GUID parsed;

	ck_assert_msg(guid_from_string(g->registry, &parsed), "%s: bad test string", g->name);
	ck_assert_msg(IsEqualGUID(g->exported, &parsed), "%s: exported value differs from %s",
		      g->name, g->registry);
	ck_assert_msg(IsEqualGUID(&g->from_static, &parsed), "%s: STATIC_ value differs from %s",
		      g->name, g->registry);
}
END_TEST

START_TEST(test_named_guids_are_distinct)
{
	/* Catches a value pasted under two names. */
	for (size_t i = 0; i < ARRAY_SIZE(named_guids); i++) {
		for (size_t j = i + 1; j < ARRAY_SIZE(named_guids); j++) {
			const struct named_guid *a = &named_guids[i], *b = &named_guids[j];

			ck_assert_msg(!IsEqualGUID(a->exported, b->exported), "%s equals %s",
				      a->name, b->name);
		}
	}
}
END_TEST

START_TEST(test_guid_bytes_are_in_windows_memory_order)
{
	/*
	 * Data1-3 are stored little-endian, Data4 as written: the bytes a Windows process holds,
	 * and what goes on the wire.
	 */
	static const uint8_t expected[16] = { 0x3a, 0xb6, 0x1b, 0x09, 0x3f, 0x60, 0xd1, 0x11,
					      0xb0, 0x67, 0x00, 0xa0, 0xc9, 0x06, 0x28, 0x02 };

	ck_assert_mem_eq(&IID_IKsAllocatorEx, expected, sizeof(expected));
}
END_TEST

START_TEST(test_dont_care_memory_types_alias_guid_null)
{
	static const uint8_t zeroes[16];
	const GUID wildcard = STATIC_KSMEMORY_TYPE_WILDCARD;
	const GUID dont_care = STATIC_KSMEMORY_TYPE_DONT_CARE;
	const GUID ks_dont_care = STATIC_KS_TYPE_DONT_CARE;

	ck_assert_mem_eq(&GUID_NULL, zeroes, sizeof(zeroes));
	/* ks.h makes them the same object, not three equal ones. */
	ck_assert_ptr_eq(&KSMEMORY_TYPE_WILDCARD, &GUID_NULL);
	ck_assert_ptr_eq(&KSMEMORY_TYPE_DONT_CARE, &GUID_NULL);
	ck_assert_ptr_eq(&KS_TYPE_DONT_CARE, &GUID_NULL);
	ck_assert(IsEqualGUID(&wildcard, &GUID_NULL));
	ck_assert(IsEqualGUID(&dont_care, &GUID_NULL));
	ck_assert(IsEqualGUID(&ks_dont_care, &GUID_NULL));
}
END_TEST

START_TEST(test_is_equal_guid_compares_all_16_bytes)
{
	GUID g = IID_IKsAllocatorEx;

	ck_assert(IsEqualGUID(&g, &IID_IKsAllocatorEx));
	ck_assert(IsEqualIID(&g, &IID_IKsAllocatorEx));
	ck_assert(IsEqualCLSID(&g, &IID_IKsAllocatorEx));
	/* KSMEMORY_TYPE_SYSTEM, _DEVICE_UNKNOWN and IID_IKsAllocatorEx differ in Data1 only. */
	ck_assert(!IsEqualGUID(&KSMEMORY_TYPE_SYSTEM, &IID_IKsAllocatorEx));
	ck_assert(!IsEqualIID(&IID_IKsAllocator, &IID_IKsAllocatorEx));
	g.Data4[7] ^= 1;
	ck_assert(!IsEqualGUID(&g, &IID_IKsAllocatorEx));
}
END_TEST

/* vtables */

START_TEST(test_iunknown_vtbl_has_windows_slots)
{
	ck_assert_slot(IUnknownVtbl, QueryInterface, 0);
	ck_assert_slot(IUnknownVtbl, AddRef, 1);
	ck_assert_slot(IUnknownVtbl, Release, 2);
	ck_assert_uint_eq(sizeof(IUnknownVtbl), 3 * 8);
}
END_TEST

START_TEST(test_iksallocator_vtbl_has_windows_slots)
{
	ck_assert_slot(IKsAllocatorVtbl, QueryInterface, 0);
	ck_assert_slot(IKsAllocatorVtbl, AddRef, 1);
	ck_assert_slot(IKsAllocatorVtbl, Release, 2);
	ck_assert_slot(IKsAllocatorVtbl, KsGetAllocatorHandle, 3);
	ck_assert_slot(IKsAllocatorVtbl, KsGetAllocatorMode, 4);
	ck_assert_slot(IKsAllocatorVtbl, KsGetAllocatorStatus, 5);
	ck_assert_slot(IKsAllocatorVtbl, KsSetAllocatorMode, 6);
	ck_assert_uint_eq(sizeof(IKsAllocatorVtbl), 7 * 8);
}
END_TEST

START_TEST(test_iksallocatorex_vtbl_has_windows_slots)
{
	ck_assert_slot(IKsAllocatorExVtbl, QueryInterface, 0);
	ck_assert_slot(IKsAllocatorExVtbl, AddRef, 1);
	ck_assert_slot(IKsAllocatorExVtbl, Release, 2);
	ck_assert_slot(IKsAllocatorExVtbl, KsGetAllocatorHandle, 3);
	ck_assert_slot(IKsAllocatorExVtbl, KsGetAllocatorMode, 4);
	ck_assert_slot(IKsAllocatorExVtbl, KsGetAllocatorStatus, 5);
	ck_assert_slot(IKsAllocatorExVtbl, KsSetAllocatorMode, 6);
	ck_assert_slot(IKsAllocatorExVtbl, KsGetProperties, 7);
	ck_assert_slot(IKsAllocatorExVtbl, KsSetProperties, 8);
	ck_assert_slot(IKsAllocatorExVtbl, KsSetAllocatorHandle, 9);
	ck_assert_slot(IKsAllocatorExVtbl, KsCreateAllocatorAndGetHandle, 10);
	ck_assert_uint_eq(sizeof(IKsAllocatorExVtbl), 11 * 8);
}
END_TEST

START_TEST(test_iksallocatorex_vtbl_starts_with_iksallocator_slots)
{
	/* An IKsAllocatorEx is used as an IKsAllocator, so the shared slots must coincide. */
#define SAME_SLOT(method) \
	ck_assert_uint_eq(offsetof(IKsAllocatorExVtbl, method), offsetof(IKsAllocatorVtbl, method))
	SAME_SLOT(QueryInterface);
	SAME_SLOT(AddRef);
	SAME_SLOT(Release);
	SAME_SLOT(KsGetAllocatorHandle);
	SAME_SLOT(KsGetAllocatorMode);
	SAME_SLOT(KsGetAllocatorStatus);
	SAME_SLOT(KsSetAllocatorMode);
#undef SAME_SLOT
	ck_assert_uint_eq(offsetof(IKsAllocatorExVtbl, QueryInterface),
			  offsetof(IUnknownVtbl, QueryInterface));
	ck_assert_uint_eq(offsetof(IKsAllocatorExVtbl, Release), offsetof(IUnknownVtbl, Release));
}
END_TEST

START_TEST(test_imemallocator_vtbl_has_windows_slots)
{
	ck_assert_slot(IMemAllocatorVtbl, QueryInterface, 0);
	ck_assert_slot(IMemAllocatorVtbl, AddRef, 1);
	ck_assert_slot(IMemAllocatorVtbl, Release, 2);
	ck_assert_slot(IMemAllocatorVtbl, SetProperties, 3);
	ck_assert_slot(IMemAllocatorVtbl, GetProperties, 4);
	ck_assert_slot(IMemAllocatorVtbl, Commit, 5);
	ck_assert_slot(IMemAllocatorVtbl, Decommit, 6);
	ck_assert_slot(IMemAllocatorVtbl, GetBuffer, 7);
	ck_assert_slot(IMemAllocatorVtbl, ReleaseBuffer, 8);
	ck_assert_uint_eq(sizeof(IMemAllocatorVtbl), 9 * 8);
}
END_TEST

START_TEST(test_imemallocator_callback_vtbls_have_windows_slots)
{
	ck_assert_slot(IMemAllocatorCallbackTempVtbl, QueryInterface, 0);
	ck_assert_slot(IMemAllocatorCallbackTempVtbl, AddRef, 1);
	ck_assert_slot(IMemAllocatorCallbackTempVtbl, Release, 2);
	ck_assert_slot(IMemAllocatorCallbackTempVtbl, SetProperties, 3);
	ck_assert_slot(IMemAllocatorCallbackTempVtbl, GetProperties, 4);
	ck_assert_slot(IMemAllocatorCallbackTempVtbl, Commit, 5);
	ck_assert_slot(IMemAllocatorCallbackTempVtbl, Decommit, 6);
	ck_assert_slot(IMemAllocatorCallbackTempVtbl, GetBuffer, 7);
	ck_assert_slot(IMemAllocatorCallbackTempVtbl, ReleaseBuffer, 8);
	ck_assert_slot(IMemAllocatorCallbackTempVtbl, SetNotify, 9);
	ck_assert_slot(IMemAllocatorCallbackTempVtbl, GetFreeCount, 10);
	ck_assert_uint_eq(sizeof(IMemAllocatorCallbackTempVtbl), 11 * 8);

	ck_assert_slot(IMemAllocatorNotifyCallbackTempVtbl, QueryInterface, 0);
	ck_assert_slot(IMemAllocatorNotifyCallbackTempVtbl, AddRef, 1);
	ck_assert_slot(IMemAllocatorNotifyCallbackTempVtbl, Release, 2);
	ck_assert_slot(IMemAllocatorNotifyCallbackTempVtbl, NotifyRelease, 3);
	ck_assert_uint_eq(sizeof(IMemAllocatorNotifyCallbackTempVtbl), 4 * 8);
}
END_TEST

START_TEST(test_imediasample_vtbl_has_windows_slots)
{
	ck_assert_slot(IMediaSampleVtbl, QueryInterface, 0);
	ck_assert_slot(IMediaSampleVtbl, AddRef, 1);
	ck_assert_slot(IMediaSampleVtbl, Release, 2);
	ck_assert_slot(IMediaSampleVtbl, GetPointer, 3);
	ck_assert_slot(IMediaSampleVtbl, GetSize, 4);
	ck_assert_slot(IMediaSampleVtbl, GetTime, 5);
	ck_assert_slot(IMediaSampleVtbl, SetTime, 6);
	ck_assert_slot(IMediaSampleVtbl, IsSyncPoint, 7);
	ck_assert_slot(IMediaSampleVtbl, SetSyncPoint, 8);
	ck_assert_slot(IMediaSampleVtbl, IsPreroll, 9);
	ck_assert_slot(IMediaSampleVtbl, SetPreroll, 10);
	ck_assert_slot(IMediaSampleVtbl, GetActualDataLength, 11);
	ck_assert_slot(IMediaSampleVtbl, SetActualDataLength, 12);
	ck_assert_slot(IMediaSampleVtbl, GetMediaType, 13);
	ck_assert_slot(IMediaSampleVtbl, SetMediaType, 14);
	ck_assert_slot(IMediaSampleVtbl, IsDiscontinuity, 15);
	ck_assert_slot(IMediaSampleVtbl, SetDiscontinuity, 16);
	ck_assert_slot(IMediaSampleVtbl, GetMediaTime, 17);
	ck_assert_slot(IMediaSampleVtbl, SetMediaTime, 18);
	ck_assert_uint_eq(sizeof(IMediaSampleVtbl), 19 * 8);
}
END_TEST

START_TEST(test_imediasample2_vtbl_extends_imediasample)
{
	ck_assert_slot(IMediaSample2Vtbl, QueryInterface, 0);
	ck_assert_slot(IMediaSample2Vtbl, GetPointer, 3);
	ck_assert_slot(IMediaSample2Vtbl, GetActualDataLength, 11);
	ck_assert_slot(IMediaSample2Vtbl, SetMediaTime, 18);
	ck_assert_slot(IMediaSample2Vtbl, GetProperties, 19);
	ck_assert_slot(IMediaSample2Vtbl, SetProperties, 20);
	ck_assert_uint_eq(sizeof(IMediaSample2Vtbl), 21 * 8);
	/* Its first 19 slots are IMediaSample's, one for one. */
	ck_assert_uint_eq(offsetof(IMediaSample2Vtbl, SetMediaTime),
			  offsetof(IMediaSampleVtbl, SetMediaTime));
	ck_assert_uint_eq(offsetof(IMediaSample2Vtbl, GetMediaType),
			  offsetof(IMediaSampleVtbl, GetMediaType));
}
END_TEST

START_TEST(test_am_sample2_properties_has_windows_offsets)
{
	ck_assert_offset(AM_SAMPLE2_PROPERTIES, cbData, 0);
	ck_assert_offset(AM_SAMPLE2_PROPERTIES, dwTypeSpecificFlags, 4);
	ck_assert_offset(AM_SAMPLE2_PROPERTIES, dwSampleFlags, 8);
	ck_assert_offset(AM_SAMPLE2_PROPERTIES, lActual, 12);
	ck_assert_offset(AM_SAMPLE2_PROPERTIES, tStart, 16);
	ck_assert_offset(AM_SAMPLE2_PROPERTIES, tStop, 24);
	ck_assert_offset(AM_SAMPLE2_PROPERTIES, dwStreamId, 32);
	ck_assert_offset(AM_SAMPLE2_PROPERTIES, pMediaType, 40);
	ck_assert_offset(AM_SAMPLE2_PROPERTIES, pbBuffer, 48);
	ck_assert_offset(AM_SAMPLE2_PROPERTIES, cbBuffer, 56);
	ck_assert_uint_eq(sizeof(AM_SAMPLE2_PROPERTIES), 64);
}
END_TEST

START_TEST(test_am_sample_flags_have_windows_values)
{
	ck_assert_int_eq(AM_SAMPLE_SPLICEPOINT, 0x1);
	ck_assert_int_eq(AM_SAMPLE_PREROLL, 0x2);
	ck_assert_int_eq(AM_SAMPLE_DATADISCONTINUITY, 0x4);
	ck_assert_int_eq(AM_SAMPLE_TYPECHANGED, 0x8);
	ck_assert_int_eq(AM_SAMPLE_TIMEVALID, 0x10);
	ck_assert_int_eq(AM_SAMPLE_TIMEDISCONTINUITY, 0x40);
	ck_assert_int_eq(AM_SAMPLE_FLUSH_ON_PAUSE, 0x80);
	ck_assert_int_eq(AM_SAMPLE_STOPVALID, 0x100);
	ck_assert_int_eq(AM_SAMPLE_ENDOFSTREAM, 0x200);
	ck_assert_int_eq(AM_STREAM_MEDIA, 0);
	ck_assert_int_eq(AM_STREAM_CONTROL, 1);
	ck_assert_uint_eq(sizeof(AM_SAMPLE_PROPERTY_FLAGS), 4);
}
END_TEST

START_TEST(test_imediasample_lengths_are_32_bit_like_windows_long)
{
	const IMediaSampleVtbl *vtbl = NULL;

	/* GetSize and GetActualDataLength return an IDL "long": LONG here. (Not evaluated.) */
	ck_assert_int_eq(_Generic(vtbl->GetSize(NULL), LONG : 1, default : 0), 1);
	ck_assert_int_eq(_Generic(vtbl->GetActualDataLength(NULL), LONG : 1, default : 0), 1);
	ck_assert_uint_eq(sizeof(vtbl->GetSize(NULL)), 4);
}
END_TEST

START_TEST(test_objects_start_with_their_vtable_pointer)
{
	ck_assert_uint_eq(offsetof(IUnknown, lpVtbl), 0);
	ck_assert_uint_eq(offsetof(IKsAllocator, lpVtbl), 0);
	ck_assert_uint_eq(offsetof(IKsAllocatorEx, lpVtbl), 0);
	ck_assert_uint_eq(offsetof(IMemAllocator, lpVtbl), 0);
	ck_assert_uint_eq(offsetof(IMemAllocatorCallbackTemp, lpVtbl), 0);
	ck_assert_uint_eq(offsetof(IMemAllocatorNotifyCallbackTemp, lpVtbl), 0);
	ck_assert_uint_eq(offsetof(IMediaSample, lpVtbl), 0);
	ck_assert_uint_eq(sizeof(IKsAllocatorEx), sizeof(void *));
}
END_TEST

/*
 * A stand-in IKsAllocatorEx whose methods record which slot was called, so that each call macro
 * can be shown to reach its own slot with its own arguments.
 */
struct fake_allocator {
	IKsAllocatorEx iface; /* first, so that the interface pointer is the object pointer */
	int last_slot;
	const void *last_arg;
	KSALLOCATORMODE mode;
	HANDLE handle;
	ALLOCATOR_PROPERTIES_EX props;
};

static struct fake_allocator *fake_from(IKsAllocatorEx *This)
{
	return (struct fake_allocator *)This;
}

static HRESULT STDMETHODCALLTYPE fake_query_interface(IKsAllocatorEx *This, REFIID riid,
						      void **ppvObject)
{
	fake_from(This)->last_slot = 0;
	fake_from(This)->last_arg = riid;
	*ppvObject = This;
	return S_OK;
}

static ULONG STDMETHODCALLTYPE fake_add_ref(IKsAllocatorEx *This)
{
	fake_from(This)->last_slot = 1;
	return 2;
}

static ULONG STDMETHODCALLTYPE fake_release(IKsAllocatorEx *This)
{
	fake_from(This)->last_slot = 2;
	return 1;
}

static HANDLE STDMETHODCALLTYPE fake_get_handle(IKsAllocatorEx *This)
{
	fake_from(This)->last_slot = 3;
	return fake_from(This)->handle;
}

static KSALLOCATORMODE STDMETHODCALLTYPE fake_get_mode(IKsAllocatorEx *This)
{
	fake_from(This)->last_slot = 4;
	return fake_from(This)->mode;
}

static HRESULT STDMETHODCALLTYPE fake_get_status(IKsAllocatorEx *This,
						 PKSSTREAMALLOCATOR_STATUS AllocatorStatus)
{
	fake_from(This)->last_slot = 5;
	memset(AllocatorStatus, 0, sizeof(*AllocatorStatus));
	AllocatorStatus->Framing.Frames = 8;
	AllocatorStatus->AllocatedFrames = 3;
	return S_FALSE;
}

static VOID STDMETHODCALLTYPE fake_set_mode(IKsAllocatorEx *This, KSALLOCATORMODE Mode)
{
	fake_from(This)->last_slot = 6;
	fake_from(This)->mode = Mode;
}

static PALLOCATOR_PROPERTIES_EX STDMETHODCALLTYPE fake_get_properties(IKsAllocatorEx *This)
{
	fake_from(This)->last_slot = 7;
	return &fake_from(This)->props;
}

static VOID STDMETHODCALLTYPE fake_set_properties(IKsAllocatorEx *This,
						  PALLOCATOR_PROPERTIES_EX AllocEx)
{
	fake_from(This)->last_slot = 8;
	fake_from(This)->props = *AllocEx;
}

static VOID STDMETHODCALLTYPE fake_set_handle(IKsAllocatorEx *This, HANDLE AllocatorHandle)
{
	fake_from(This)->last_slot = 9;
	fake_from(This)->handle = AllocatorHandle;
}

static HANDLE STDMETHODCALLTYPE fake_create_and_get_handle(IKsAllocatorEx *This, IKsPin *KsPin)
{
	fake_from(This)->last_slot = 10;
	fake_from(This)->last_arg = KsPin;
	return NULL;
}

static const IKsAllocatorExVtbl fake_vtbl = {
	.QueryInterface = fake_query_interface,
	.AddRef = fake_add_ref,
	.Release = fake_release,
	.KsGetAllocatorHandle = fake_get_handle,
	.KsGetAllocatorMode = fake_get_mode,
	.KsGetAllocatorStatus = fake_get_status,
	.KsSetAllocatorMode = fake_set_mode,
	.KsGetProperties = fake_get_properties,
	.KsSetProperties = fake_set_properties,
	.KsSetAllocatorHandle = fake_set_handle,
	.KsCreateAllocatorAndGetHandle = fake_create_and_get_handle,
};

START_TEST(test_call_macros_reach_their_own_slots)
{
	struct fake_allocator fake = { .iface.lpVtbl = &fake_vtbl, .handle = (HANDLE)0x1234 };
	IKsAllocatorEx *ex = &fake.iface;
	IKsAllocator *ks = NULL;
	KSSTREAMALLOCATOR_STATUS status;
	ALLOCATOR_PROPERTIES_EX props = { .cBuffers = 5 };
	IKsPin *pin = (IKsPin *)&fake;

	ck_assert_hr_eq(IKsAllocatorEx_QueryInterface(ex, &IID_IKsAllocator, (void **)&ks), S_OK);
	ck_assert_int_eq(fake.last_slot, 0);
	ck_assert_ptr_eq(fake.last_arg, &IID_IKsAllocator);
	ck_assert_ptr_eq(ks, ex);
	ck_assert_uint_eq(IKsAllocatorEx_AddRef(ex), 2);
	ck_assert_int_eq(fake.last_slot, 1);
	ck_assert_uint_eq(IKsAllocatorEx_Release(ex), 1);
	ck_assert_int_eq(fake.last_slot, 2);
	ck_assert_ptr_eq(IKsAllocatorEx_KsGetAllocatorHandle(ex), (HANDLE)0x1234);
	ck_assert_int_eq(fake.last_slot, 3);
	IKsAllocatorEx_KsSetAllocatorMode(ex, KsAllocatorMode_Kernel);
	ck_assert_int_eq(fake.last_slot, 6);
	ck_assert_int_eq(IKsAllocatorEx_KsGetAllocatorMode(ex), KsAllocatorMode_Kernel);
	ck_assert_int_eq(fake.last_slot, 4);
	ck_assert_hr_eq(IKsAllocatorEx_KsGetAllocatorStatus(ex, &status), S_FALSE);
	ck_assert_int_eq(fake.last_slot, 5);
	ck_assert_uint_eq(status.AllocatedFrames, 3);
	IKsAllocatorEx_KsSetProperties(ex, &props);
	ck_assert_int_eq(fake.last_slot, 8);
	ck_assert_int_eq(IKsAllocatorEx_KsGetProperties(ex)->cBuffers, 5);
	ck_assert_int_eq(fake.last_slot, 7);
	IKsAllocatorEx_KsSetAllocatorHandle(ex, (HANDLE)0x5678);
	ck_assert_int_eq(fake.last_slot, 9);
	ck_assert_ptr_eq(fake.handle, (HANDLE)0x5678);
	ck_assert_ptr_null(IKsAllocatorEx_KsCreateAllocatorAndGetHandle(ex, pin));
	ck_assert_int_eq(fake.last_slot, 10);
	ck_assert_ptr_eq(fake.last_arg, pin);

	/* The same object seen through IKsAllocator and IUnknown reaches the same slots. */
	ck_assert_hr_eq(IKsAllocator_KsGetAllocatorStatus(ks, &status), S_FALSE);
	ck_assert_int_eq(fake.last_slot, 5);
	IKsAllocator_KsSetAllocatorMode(ks, KsAllocatorMode_User);
	ck_assert_int_eq(fake.last_slot, 6);
	ck_assert_int_eq(IKsAllocator_KsGetAllocatorMode(ks), KsAllocatorMode_User);
	ck_assert_int_eq(fake.last_slot, 4);
	ck_assert_ptr_eq(IKsAllocator_KsGetAllocatorHandle(ks), (HANDLE)0x5678);
	ck_assert_int_eq(fake.last_slot, 3);
	ck_assert_uint_eq(IKsAllocator_AddRef(ks), 2);
	ck_assert_int_eq(fake.last_slot, 1);
	ck_assert_uint_eq(IUnknown_Release((IUnknown *)ks), 1);
	ck_assert_int_eq(fake.last_slot, 2);
}
END_TEST

/* macros */

START_TEST(test_succeeded_and_failed_follow_the_sign_bit)
{
	ck_assert(SUCCEEDED(S_OK));
	ck_assert(SUCCEEDED(S_FALSE));
	ck_assert(SUCCEEDED((HRESULT)0x7FFFFFFF));
	ck_assert(!FAILED(S_FALSE));
	ck_assert(FAILED(E_FAIL));
	ck_assert(FAILED(VFW_E_TIMEOUT));
	ck_assert(FAILED((HRESULT)0x80000000u));
	ck_assert(!SUCCEEDED(E_UNEXPECTED));
	/* A plain 0x8... number must be read as an HRESULT, not as a large positive value. */
	ck_assert(FAILED(0x80004005u));
	ck_assert(IS_ERROR(E_FAIL));
	ck_assert(!IS_ERROR(S_FALSE));
}
END_TEST

START_TEST(test_hresult_from_win32_maps_like_windows)
{
	/* Zero stays zero, so HRESULT_FROM_WIN32(GetLastError()) of success is S_OK. */
	ck_assert_hr_eq(HRESULT_FROM_WIN32(ERROR_SUCCESS), S_OK);
	ck_assert_hr_eq(HRESULT_FROM_WIN32(ERROR_FILE_NOT_FOUND), 0x80070002);
	ck_assert_hr_eq(HRESULT_FROM_WIN32(ERROR_ACCESS_DENIED), E_ACCESSDENIED);
	ck_assert_hr_eq(HRESULT_FROM_WIN32(ERROR_INVALID_HANDLE), E_HANDLE);
	ck_assert_hr_eq(HRESULT_FROM_WIN32(ERROR_OUTOFMEMORY), E_OUTOFMEMORY);
	ck_assert_hr_eq(HRESULT_FROM_WIN32(ERROR_INVALID_PARAMETER), E_INVALIDARG);
	ck_assert_hr_eq(HRESULT_FROM_WIN32(ERROR_BROKEN_PIPE), 0x8007006D);
	ck_assert_hr_eq(HRESULT_FROM_WIN32(ERROR_SERVICE_NOT_ACTIVE), 0x80070426);
	ck_assert_hr_eq(HRESULT_FROM_WIN32(ERROR_TIMEOUT), 0x800705B4);
	ck_assert_hr_eq(HRESULT_FROM_WIN32(ERROR_NOT_SUPPORTED), 0x80070032);
	/* Only the low 16 bits of the code survive. */
	ck_assert_hr_eq(HRESULT_FROM_WIN32(0x12345), 0x80072345);
	/* Values that are already (negative) HRESULTs pass through. */
	ck_assert_hr_eq(HRESULT_FROM_WIN32(E_FAIL), E_FAIL);
	ck_assert_hr_eq(HRESULT_FROM_WIN32(VFW_E_TIMEOUT), VFW_E_TIMEOUT);
	/* A DWORD argument, as GetLastError() returns, maps the same way. */
	ck_assert_hr_eq(HRESULT_FROM_WIN32((DWORD)ERROR_TIMEOUT), 0x800705B4);
	ck_assert(FAILED(HRESULT_FROM_WIN32(ERROR_BROKEN_PIPE)));
}
END_TEST

static int classify(HRESULT hr)
{
	/* HRESULT_FROM_WIN32 must be a constant expression, as switch statements use it so. */
	switch (hr) {
	case HRESULT_FROM_WIN32(ERROR_FILE_NOT_FOUND):
		return 1;
	case HRESULT_FROM_WIN32(ERROR_SERVICE_NOT_ACTIVE):
		return 2;
	case E_ACCESSDENIED:
		return 3;
	default:
		return 0;
	}
}

START_TEST(test_hresult_from_win32_works_in_case_labels)
{
	ck_assert_int_eq(classify((HRESULT)0x80070002), 1);
	ck_assert_int_eq(classify((HRESULT)0x80070426), 2);
	ck_assert_int_eq(classify(E_ACCESSDENIED), 3);
	ck_assert_int_eq(classify(E_FAIL), 0);
}
END_TEST

START_TEST(test_make_hresult_and_its_accessors_agree_with_windows)
{
	ck_assert_hr_eq(MAKE_HRESULT(SEVERITY_ERROR, FACILITY_WIN32, ERROR_TIMEOUT), 0x800705B4);
	ck_assert_hr_eq(MAKE_HRESULT(SEVERITY_SUCCESS, 0, 1), S_FALSE);
	ck_assert_int_eq(HRESULT_CODE(E_INVALIDARG), ERROR_INVALID_PARAMETER);
	ck_assert_int_eq(HRESULT_FACILITY(E_INVALIDARG), FACILITY_WIN32);
	ck_assert_int_eq(HRESULT_SEVERITY(E_INVALIDARG), SEVERITY_ERROR);
	ck_assert_int_eq(HRESULT_SEVERITY(S_FALSE), SEVERITY_SUCCESS);
}
END_TEST

static Suite *ksproxy_suite(void)
{
	Suite *s = suite_create("ksproxy");
	TCase *tc;

	tc = tcase_create("layouts");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_windows_base_types_have_llp64_sizes);
	tcase_add_test(tc, test_enums_are_4_bytes_like_windows_c_enums);
	tcase_add_test(tc, test_ksallocator_framing_has_windows_offsets);
	tcase_add_test(tc, test_ks_framing_range_has_windows_offsets);
	tcase_add_test(tc, test_ks_framing_range_weighted_has_windows_offsets);
	tcase_add_test(tc, test_ks_compression_has_windows_offsets);
	tcase_add_test(tc, test_ks_framing_item_has_windows_offsets);
	tcase_add_test(tc, test_ksallocator_framing_ex_has_windows_offsets);
	tcase_add_test(tc, test_ksstreamallocator_status_has_windows_offsets);
	tcase_add_test(tc, test_ksstreamallocator_status_ex_has_windows_offsets);
	tcase_add_test(tc, test_kstime_has_windows_offsets);
	tcase_add_test(tc, test_ksstream_header_has_windows_offsets);
	tcase_add_test(tc, test_ksalloc_stream_options_layout);
	tcase_add_test(tc, test_pipe_dimensions_has_windows_offsets);
	tcase_add_test(tc, test_pipe_termination_has_windows_offsets);
	tcase_add_test(tc, test_allocator_properties_has_windows_offsets);
	tcase_add_test(tc, test_allocator_properties_ex_has_windows_offsets);
	tcase_add_test(tc, test_am_media_type_has_windows_offsets);
	tcase_add_test(tc, test_am_sample2_properties_has_windows_offsets);
	suite_add_tcase(s, tc);

	tc = tcase_create("constants");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_hresults_have_windows_values);
	tcase_add_test(tc, test_error_hresults_are_negative_32_bit_values);
	tcase_add_test(tc, test_win32_error_codes_have_windows_values);
	tcase_add_test(tc, test_base_macros_have_windows_values);
	tcase_add_test(tc, test_requirement_and_option_flags_have_windows_values);
	tcase_add_test(tc, test_pipe_flags_have_windows_values);
	tcase_add_test(tc, test_stream_header_options_flags_have_windows_values);
	tcase_add_test(tc, test_stream_policies_have_their_documented_values);
	tcase_add_test(tc, test_am_sample_flags_have_windows_values);
	tcase_add_test(tc, test_file_alignment_values_are_masks);
	tcase_add_test(tc, test_enum_values_match_windows);
	tcase_add_test(tc, test_pool_types_match_wdm);
	tcase_add_test(tc, test_property_method_and_event_ids_match_windows);
	tcase_add_test(tc, test_getbuffer_flags_match_windows);
	suite_add_tcase(s, tc);

	tc = tcase_create("guids");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_guid_parser_reads_registry_format);
	tcase_add_loop_test(tc, test_named_guid_matches_registry_string, 0,
			    (int)ARRAY_SIZE(named_guids));
	tcase_add_test(tc, test_named_guids_are_distinct);
	tcase_add_test(tc, test_guid_bytes_are_in_windows_memory_order);
	tcase_add_test(tc, test_dont_care_memory_types_alias_guid_null);
	tcase_add_test(tc, test_is_equal_guid_compares_all_16_bytes);
	suite_add_tcase(s, tc);

	tc = tcase_create("vtables");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_iunknown_vtbl_has_windows_slots);
	tcase_add_test(tc, test_iksallocator_vtbl_has_windows_slots);
	tcase_add_test(tc, test_iksallocatorex_vtbl_has_windows_slots);
	tcase_add_test(tc, test_iksallocatorex_vtbl_starts_with_iksallocator_slots);
	tcase_add_test(tc, test_imemallocator_vtbl_has_windows_slots);
	tcase_add_test(tc, test_imemallocator_callback_vtbls_have_windows_slots);
	tcase_add_test(tc, test_imediasample_vtbl_has_windows_slots);
	tcase_add_test(tc, test_imediasample2_vtbl_extends_imediasample);
	tcase_add_test(tc, test_imediasample_lengths_are_32_bit_like_windows_long);
	tcase_add_test(tc, test_objects_start_with_their_vtable_pointer);
	tcase_add_test(tc, test_call_macros_reach_their_own_slots);
	suite_add_tcase(s, tc);

	tc = tcase_create("macros");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_succeeded_and_failed_follow_the_sign_bit);
	tcase_add_test(tc, test_hresult_from_win32_maps_like_windows);
	tcase_add_test(tc, test_hresult_from_win32_works_in_case_labels);
	tcase_add_test(tc, test_make_hresult_and_its_accessors_agree_with_windows);
	suite_add_tcase(s, tc);

	return s;
}

int main(void)
{
	return ksalloc_check_run(ksproxy_suite());
}
