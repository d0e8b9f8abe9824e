# cmake -DSCDOC=scdoc -DVERSION=x.y.z -DIN=page.N.scd -DOUT=page.N -P scdoc.cmake
# Renders one page; a failed rendering leaves no output behind, so make retries it.
file(READ ${IN} text)
string(REPLACE "@PROJECT_VERSION@" "${VERSION}" text "${text}")
file(WRITE ${OUT}.scd "${text}")
execute_process(COMMAND ${SCDOC} INPUT_FILE ${OUT}.scd OUTPUT_FILE ${OUT}.tmp
                RESULT_VARIABLE result)
file(REMOVE ${OUT}.scd)
if(NOT result EQUAL 0)
  file(REMOVE ${OUT}.tmp)
  message(FATAL_ERROR "scdoc failed on ${IN}")
endif()
file(RENAME ${OUT}.tmp ${OUT})
