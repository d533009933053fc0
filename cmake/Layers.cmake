# ms_add_layer(TARGET): the layer in the current folder as one static library
# (docs/architecture.md): every .c file of the folder; the folder a PUBLIC
# include path, its internal/ folder (where there is one) a PRIVATE one.
# The caller adds the links and the third-party include paths.
function(ms_add_layer target)
  file(GLOB sources CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/*.c)
  add_library(${target} STATIC ${sources})
  target_include_directories(${target} PUBLIC ${CMAKE_CURRENT_SOURCE_DIR})
  if(EXISTS ${CMAKE_CURRENT_SOURCE_DIR}/internal)
    target_include_directories(${target} PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/internal)
  endif()
endfunction()
